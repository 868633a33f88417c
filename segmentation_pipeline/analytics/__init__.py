"""What the published analytics tables are made of: membership history, KPIs, migration, effects, rules."""
