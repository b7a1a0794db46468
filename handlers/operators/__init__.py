"""The operators' side (`OPERATOR_IDS`): languages, figures, the export, data requests,
audits."""
