"""The federation ledger (public schema): positions of networks that exchange with each
other, and the transfers between them. See the `ledger` package docstring."""
