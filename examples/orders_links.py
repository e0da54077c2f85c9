"""Orders linked to products (and products to categories), like pointers.

Each order points at one product through product_id; `r.prod.price` reads the linked product's
price. Orders keep their order and their count: an order of an unknown product sees NULLs.

Run: python examples/orders_links.py
"""

from pathlib import Path

from ltseq import LTSeq

DATA = Path(__file__).resolve().parent.parent / "data"

orders = LTSeq.read_csv(DATA / "orders.csv").sort(lambda r: r.order_id)
products = LTSeq.read_csv(DATA / "products.csv")
categories = LTSeq.read_csv(DATA / "categories.csv")

# products -> categories, then orders -> products: links chain (r.prod.cat.name)
catalog = products.link(categories, on=lambda p, c: p.category_id == c.category_id, as_="cat")
linked = orders.link(catalog, on=lambda o, p: o.product_id == p.product_id, as_="prod")

lines = linked.derive(lambda r: {"total": r.quantity * r.prod.price}).select(
    lambda r: [r.order_id, r.date, r.prod.name, r.prod.cat.name, r.quantity, r.total]
)
lines.show(8)

unknown = linked.filter(lambda r: r.prod.name.is_null())
print(f"orders of unknown products: {unknown.count()} of {orders.count()}")

# an expression-level lookup: one column of another table
expensive = orders.filter(lambda r: r.product_id.lookup(products, "price") >= 25)
print(f"orders of products costing 25 or more: {expensive.count()}")
