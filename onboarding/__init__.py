"""Onboarding a biller: the tools a Solutions Engineer uses before a biller goes
live, where they need both the partners and the invoice files (the mapping
review). No models."""
