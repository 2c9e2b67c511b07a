"""Screening text: secrets, instructions aimed at the assistant, data leaving in URLs.

Modules: exfil, injection, secret_filters, secrets.
"""
