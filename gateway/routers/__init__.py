"""The gateway's endpoints, one router per resource: applications, lists, calendar."""
