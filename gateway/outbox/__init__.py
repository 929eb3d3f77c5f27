"""Everything sent after the intake commit: acknowledgements, escalation notices, SLA warnings."""
