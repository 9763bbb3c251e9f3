"""The ICP-filing domain: rules as pure functions, bilingual texts, traced to the seed documents."""
