"""Form definitions per site: what the widget renders and what the server checks at submission."""
