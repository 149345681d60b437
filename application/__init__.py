"""Use cases: one eventsourcing Application per bounded context, plus projections and ports."""
