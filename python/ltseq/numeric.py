"""Math and conditional expressions: ``r.x.sqrt()``, ``r.x.log(10)``, ``r.x.clip(0, 1)``, ...
as methods of every expression, and the functions ``when(...).then(...).otherwise(...)`` and
``coalesce(...)``. Each is DataFusion's own function (``sqrt``, ``ln``, ``log``, ``power``,
``signum``, ``CASE``, ``coalesce``, ...); NULL in, NULL out."""

from __future__ import annotations

from typing import Any

from ._expr import Expr, Func, IfElse, Literal, _merge_dtype, _require_numeric, _wrap, extend


def _unary(name: str, sql: str) -> Any:
    def method(self: Any) -> Expr:
        _require_numeric(f"{name}()", self)
        return Func(sql, [self], "float64")

    method.__name__ = name
    method.__doc__ = f"``{sql}`` of the value (a float)."
    return method


@extend
class MathMethods:
    """The math methods of every expression (see :class:`Expr`)."""

    def sqrt(self: Any) -> Expr:
        """The square root (a float; NaN for a negative value, as numpy and Polars give, where
        DataFusion's ``sqrt`` raises)."""
        _require_numeric("sqrt()", self)
        x = self.cast("float64")
        return IfElse(x < 0.0, Literal(float("nan")), Func("sqrt", [x], "float64"))

    cbrt = _unary("cbrt", "cbrt")
    exp = _unary("exp", "exp")
    log10 = _unary("log10", "log10")
    log2 = _unary("log2", "log2")
    sin = _unary("sin", "sin")
    cos = _unary("cos", "cos")
    tan = _unary("tan", "tan")
    arcsin = _unary("arcsin", "asin")
    arccos = _unary("arccos", "acos")
    arctan = _unary("arctan", "atan")
    sinh = _unary("sinh", "sinh")
    cosh = _unary("cosh", "cosh")
    tanh = _unary("tanh", "tanh")
    degrees = _unary("degrees", "degrees")
    radians = _unary("radians", "radians")

    def log(self: Any, base: float | None = None) -> Expr:
        """The natural logarithm, or with ``base`` the logarithm to that base (a float; NaN
        for negative values, -inf at 0, as DataFusion computes them)."""
        _require_numeric("log()", self)
        if base is None:
            return Func("ln", [self], "float64")
        if isinstance(base, bool) or not isinstance(base, (int, float)) or base <= 0 or base == 1:
            raise ValueError(f"log(): base must be a positive number other than 1, got {base!r}")
        return Func("log", [Literal(float(base)), self.cast("float64")], "float64")

    def log1p(self: Any) -> Expr:
        """``ln(1 + x)``, accurate for small ``x`` too: ``ln(1 + x) * x / ((1 + x) - 1)`` (which
        cancels the rounding of ``1 + x``), and ``x`` itself where ``1 + x`` rounds to 1."""
        _require_numeric("log1p()", self)
        x = self.cast("float64")
        u = x + 1.0
        ln = Func("ln", [u], "float64")
        # past 1e15 the correction is below rounding (and inf / inf would be NaN)
        return IfElse(u == 1.0, x, IfElse(x > 1e15, ln, ln * x / (u - 1.0)))

    def sign(self: Any) -> Expr:
        """-1, 0 or 1 by the value's sign (a float; NaN stays NaN)."""
        _require_numeric("sign()", self)
        return Func("signum", [self.cast("float64")], "float64")

    def pow(self: Any, exponent: Any) -> Expr:
        """The value raised to ``exponent`` (a float; as ``**``)."""
        _require_numeric("pow()", self)
        e = _wrap(exponent)
        _require_numeric("pow()", e)
        return Func("power", [self.cast("float64"), e.cast("float64")], "float64")

    def clip(self: Any, lower: Any = None, upper: Any = None) -> Expr:
        """The value limited to ``[lower, upper]`` (either may be None: no limit on that side);
        NULL stays NULL and NaN stays NaN."""
        _require_numeric("clip()", self)
        if lower is None and upper is None:
            raise ValueError("clip() needs lower=, upper= or both")
        out: Expr = self  # a NULL comparison takes the ELSE branch: NULL stays NULL
        if lower is not None:
            lo = _wrap(lower)
            _require_numeric("clip()", lo)
            out = IfElse(out < lo, lo, out)
        if upper is not None:
            hi = _wrap(upper)
            _require_numeric("clip()", hi)
            out = IfElse(out > hi, hi, out)
        if self.dtype == "float64":  # NaN compares greater than every number in DataFusion
            out = IfElse(Func("isnan", [self], "bool"), self, out)
        return out


class When:
    """``when(cond)``: waiting for its ``then(value)``."""

    __slots__ = ("_branches", "_cond")

    def __init__(self, branches: tuple[tuple[Expr, Expr], ...], cond: Any) -> None:
        c = _wrap(cond)
        if c.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"when() takes a condition, but {c!r} is {c.dtype}")
        self._branches, self._cond = branches, c

    def then(self, value: Any) -> Case:
        """The value where the condition holds (and no earlier one did)."""
        return Case((*self._branches, (self._cond, _wrap(value))), None)

    def __repr__(self) -> str:
        return f"when({self._cond!r})"


class Case(Expr):
    """``when(c1).then(v1).when(c2).then(v2).otherwise(v)``: the value of the first condition
    that holds (a NULL condition does not), else ``otherwise`` (NULL without one)."""

    __slots__ = ("branches", "default")

    def __init__(self, branches: tuple[tuple[Expr, Expr], ...], default: Expr | None) -> None:
        self.branches, self.default = branches, default

    def when(self, cond: Any) -> When:
        """Another condition, tried when the earlier ones do not hold."""
        if self.default is not None:
            raise ValueError("when() after otherwise(): otherwise() ends the chain")
        return When(self.branches, cond)

    def otherwise(self, value: Any) -> Case:
        """The value where no condition holds."""
        if self.default is not None:
            raise ValueError("otherwise() is given twice")
        return Case(self.branches, _wrap(value))

    @property
    def dtype(self) -> str:
        values = [v for _, v in self.branches] + ([self.default] if self.default is not None else [])
        dtype = values[0].dtype
        for v in values[1:]:
            dtype = _merge_dtype(dtype, v.dtype)
        return dtype

    def to_sql(self) -> str:
        parts = " ".join(f"WHEN {c.to_sql()} THEN {v.to_sql()}" for c, v in self.branches)
        tail = f" ELSE {self.default.to_sql()}" if self.default is not None else ""
        return f"CASE {parts}{tail} END"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "case",
            "branches": [{"when": c.to_dict(), "then": v.to_dict()} for c, v in self.branches],
        }
        if self.default is not None:
            out["otherwise"] = self.default.to_dict()
        return out

    def _children(self) -> list[Expr]:
        flat = [e for pair in self.branches for e in pair]
        return flat + ([self.default] if self.default is not None else [])

    def _with_children(self, children: list[Expr]) -> Expr:
        n = len(self.branches)
        pairs = tuple((children[2 * i], children[2 * i + 1]) for i in range(n))
        return Case(pairs, children[2 * n] if len(children) > 2 * n else None)

    def __repr__(self) -> str:
        text = "".join(f".when({c!r}).then({v!r})" for c, v in self.branches)[1:]
        return text + (f".otherwise({self.default!r})" if self.default is not None else "")


def when(condition: Any, value: Any = None, *more: Any) -> Any:
    """``when(cond).then(value)``, chained with ``.when(...).then(...)`` and ended with
    ``.otherwise(default)``, as in Polars; ``when(cond, value)`` is ``when(cond).then(value)``."""
    if more:
        raise TypeError("when() takes a condition and at most one value")
    pending = When((), condition)
    return pending if value is None else pending.then(value)


def coalesce(*values: Any) -> Expr:
    """The first of ``values`` that is not NULL (NULL when all are)."""
    if not values:
        raise ValueError("coalesce() needs at least one value")
    args = [_wrap(v) for v in values]
    dtype = args[0].dtype
    for a in args[1:]:
        dtype = _merge_dtype(dtype, a.dtype)
    return Func("coalesce", args, dtype)
