"""The HireHop adapter: the API client (paced per token), webhook payloads and their classification."""
