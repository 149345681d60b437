"""Pure domain model of the OCPI routing ledger: aggregates, events, value objects, rules."""
