"""The GraphQL of contacts: the card, the contact list, and merging two contacts into one."""
