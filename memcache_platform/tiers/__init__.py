"""Cache tiers: one module per tier (L3 in PostgreSQL; watermarks, L2 and L1 in Redis)."""
