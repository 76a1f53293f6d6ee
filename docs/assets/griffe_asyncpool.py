"""griffe extension: show asyncpool's signatures the way a caller uses them.

Two things the source says for the type checker read wrongly in the API pages:

* Keyword defaults that mean "use the configured value" are a private sentinel
  object (``timeout=_DEFAULT``).  The reference shows ``...`` instead, the usual
  spelling of "has a default", and each docstring says what the default is.
* A dataclass field declared with ``field(default=..., repr=False)`` shows
  its default only, and ``field(default_factory=ReplyLimits)`` shows
  ``ReplyLimits()``: what a caller gets, not how the class is written.
* A method written as an ``@asynccontextmanager`` generator is annotated
  ``-> AsyncIterator[X]`` but is used as ``async with obj.method() as x``.  The
  reference shows ``-> AbstractAsyncContextManager[X]`` and drops the
  misleading ``async`` label (calling it returns a context manager, not a
  coroutine).

Loaded by mkdocstrings (``extensions:`` in mkdocs.yml); never imported by the package.
"""

from __future__ import annotations

from typing import Any

import griffe

_SENTINELS = frozenset({"_DEFAULT", "DEFAULT"})
_FIELD = frozenset({"field", "dataclasses.field"})


def _field_default(value: object) -> str | griffe.Expr | None:
    """The default a ``dataclasses.field(...)`` call gives, or None if it is not one."""
    if not isinstance(value, griffe.ExprCall) or str(value.function) not in _FIELD:
        return None
    for argument in value.arguments:
        if isinstance(argument, griffe.ExprKeyword):
            if argument.name == "default":
                return argument.value
            if argument.name == "default_factory":
                return f"{argument.value}()"
    return None


class AsyncpoolSignatures(griffe.Extension):
    """Rewrites sentinel defaults, dataclass fields and async-context-manager returns."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        default = _field_default(attr.value)
        if default is not None:
            attr.value = default

    def on_function_instance(self, *, func: griffe.Function, **kwargs: Any) -> None:
        for parameter in func.parameters:
            if parameter.default is not None and str(parameter.default) in _SENTINELS:
                parameter.default = "..."
        decorators = {str(d.value).rsplit(".", 1)[-1] for d in func.decorators}
        if "asynccontextmanager" in decorators:
            returns = func.returns
            if isinstance(returns, griffe.ExprSubscript):
                func.returns = griffe.ExprSubscript(
                    griffe.ExprName("AbstractAsyncContextManager"), returns.slice
                )
            func.labels.discard("async")
