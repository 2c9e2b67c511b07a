"""Inventory operations on top of the HTTP client."""

from __future__ import annotations

from dataclasses import dataclass

from acme.net.client import Client


@dataclass
class Item:
    sku: str
    name: str
    quantity: int


def list_items(client: Client, warehouse: str) -> list[Item]:
    """All items stocked in a warehouse."""
    rows = client.get(f"/warehouses/{warehouse}/items")
    return [Item(r["sku"], r["name"], int(r["quantity"])) for r in rows]


def restock(client: Client, warehouse: str, sku: str, quantity: int) -> Item:
    """Add stock for one SKU and return the updated item."""
    row = client.post(f"/warehouses/{warehouse}/items/{sku}/restock", {"quantity": quantity})
    return Item(row["sku"], row["name"], int(row["quantity"]))
