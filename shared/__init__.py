"""Code both the cloud and the edge agent import: protocol, personal-data rules, errors, time."""
