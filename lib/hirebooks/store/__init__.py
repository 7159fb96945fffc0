"""DynamoDB and Secrets Manager adapters behind the ports. Every key starts with the HireHop company id."""
