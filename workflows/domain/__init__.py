"""The pure domain: calendar, catalogue, statutory clock, events and the application's rules.

Nothing here imports ``temporalio``, reads a clock or does I/O, so every rule is a plain function that
replays identically inside a workflow and is unit-tested without a server.
"""
