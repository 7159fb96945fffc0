"""HireBooks: keeps QuickBooks Online in step with HireHop.

Layout (see ../shared/DESIGN.md):
  qbo/, hirehop/   adapters for the two outside systems (HTTP clients, wire models, webhooks)
  sync/            use cases and pure mapping; depends on ports only
  store/           DynamoDB and Secrets Manager adapters behind the ports
"""

__version__ = "0.1.0"
