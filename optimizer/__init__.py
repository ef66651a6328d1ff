"""Response curves of spend to conversions and convex budget plans."""
