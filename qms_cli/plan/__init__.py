"""The ladder, the router, notices as facts, the QualityManager, fleets, the tier listing, plan JSON."""
