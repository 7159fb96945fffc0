"""Use cases and pure mapping. Depends on ports (hirebooks.ports), never on boto3 or requests."""
