"""The GraphQL of leads: the card, its cart, its timeline, its stage history and the lead list."""
