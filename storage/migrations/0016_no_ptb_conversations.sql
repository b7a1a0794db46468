-- The new-ticket form keeps its state in the customer's draft alone (bot/domain/intake.py):
-- PTB's ConversationHandler, and the persistence that kept its states here, are gone.
DROP TABLE IF EXISTS ptb_conversations;
