"""Screening text: secrets, instructions aimed at the assistant, data leaving in URLs.

Modules: exfil, injection, invisible, secret_filters, secrets.
"""
