"""The contract registry and what hangs off it: service levels, entitlement of a request, the service workflow
(verification, delivery and the 7-day return of the failed device), the return-clock watcher and their routes.
"""
