"""Requests approved per level (C4.3.1, C2.2): one machine (service), many kinds (kinds, catalog).

Ask for access and receive time-bound grants; ask to lower a customer's level; each new kind of
request is one module registered in access.catalog.
"""
