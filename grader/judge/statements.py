"""The statement to blame: from a function's first line (all the child can report) to the line of the
statement that is wrong, found by reading the student's staged source with `ast` in the parent.

Nothing here runs student code. Sources are read once, right after loading and before any child runs
(so a submission cannot rewrite what the parent reads), with a size bound per file; a file that does
not parse gives no statement, and callers keep the first line they had.

Every locator takes a parsed module and a first line and returns a line, or None when it cannot tell.
"""
from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.load.submission import parse_python

# Larger than any engine a student writes by hand (the lecture's is ~5 kB), and small enough that the
# parsed trees of a chunk of submissions judged together stay small: a larger file gets no statements.
MAX_SOURCE_BYTES = 200_000
MAX_FILES = 200
# All the source parsed for one submission: a parsed tree takes about a hundred times its text.
MAX_PARSED_BYTES = 1_000_000


@dataclass
class Sources:
    """The staged .py files of one submission as text, keyed by their path inside the staged folder.
    Only the files the engine imported are parsed (`only`), and no more than MAX_PARSED_BYTES of them."""
    texts: dict[str, str] = field(default_factory=dict)
    key: Callable[[str], str] = lambda path: path
    trees: dict[str, ast.Module | None] = field(default_factory=dict, repr=False)
    imported: frozenset[str] | None = None  # None: not known yet, every file may be parsed
    parsed_bytes: int = 0

    def only(self, imported: list[str]) -> None:
        """Parse from now on only these files (what the child's load record says the imports loaded)."""
        self.imported = frozenset(imported)

    def tree(self, path: str) -> ast.Module | None:
        """The parsed file the child named `path`, or None when it is unknown, was not imported, is past the
        budget or does not parse."""
        key = self.key(path)
        if key not in self.trees:
            text = self.texts.get(key)
            if text is None or (self.imported is not None and key not in self.imported) \
                    or self.parsed_bytes + len(text) > MAX_PARSED_BYTES:
                return None
            self.parsed_bytes += len(text)
            self.trees[key] = parse(text)
        return self.trees[key]

    def find_class(self, name: str) -> tuple[str, ast.ClassDef] | None:
        """The staged file and definition of the class `name` (the engine's `Value`), first file first; in
        a file that defines it more than once (a notebook whose cells redefine it), the last definition,
        which is the one that runs."""
        for key in sorted(self.texts, key=lambda k: (not k.endswith("engine.py"), k)):
            tree = self.tree(key)
            found = [node for node in (tree.body if tree else ()) if isinstance(node, ast.ClassDef) and node.name == name]
            if found:
                return key, found[-1]
        return None


def read_sources(staged: Path, key: Callable[[str], str]) -> Sources:
    """Every regular .py file under `staged` (no symlinks, none larger than MAX_SOURCE_BYTES)."""
    texts: dict[str, str] = {}
    for path in sorted(Path(staged).rglob("*.py"))[:MAX_FILES]:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
            continue
        texts[path.relative_to(staged).as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    return Sources(texts, key)


def parse(source: str | None) -> ast.Module | None:
    if source is None:
        return None
    try:
        return parse_python(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# ---------------------------------------------------------------------------------------------- finding nodes

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def first_line_of(node: ast.AST) -> int:
    """co_firstlineno: a decorated function starts at its first decorator."""
    decorators = getattr(node, "decorator_list", None)
    return min([node.lineno, *(d.lineno for d in decorators)]) if decorators else node.lineno


def function_at(tree: ast.AST, line: int) -> tuple[FunctionNode, list[ast.AST]] | None:
    """The function or lambda whose code starts at `line`, with its enclosing nodes (outermost first)."""
    index = getattr(tree, "_functions_by_line", None)
    if index is None:  # one walk per tree, however many findings point into it
        index = tree._functions_by_line = _functions_by_line(tree)
    return index.get(line)


def _functions_by_line(tree: ast.AST) -> dict[int, tuple[FunctionNode, list[ast.AST]]]:
    """For each first line, the function or lambda starting there met first: a node's children are looked
    at before what they hold."""
    first: dict[int, tuple[FunctionNode, ast.AST]] = {}
    parent_of: dict[int, ast.AST] = {}
    stack = [tree]  # iterative: a long expression nests as deep as it is long
    while stack:
        node = stack.pop()
        children = list(ast.iter_child_nodes(node))
        for child in children:
            parent_of[id(child)] = node
            if isinstance(child, FunctionNode):
                first.setdefault(first_line_of(child), (child, node))
        stack.extend(reversed(children))
    return {line: (fn, _ancestors(parent, parent_of)) for line, (fn, parent) in first.items()}


def _ancestors(node: ast.AST, parent_of: dict[int, ast.AST]) -> list[ast.AST]:
    """`node` and the nodes enclosing it, outermost first."""
    chain = [node]
    while id(chain[-1]) in parent_of:
        chain.append(parent_of[id(chain[-1])])
    return chain[::-1]


def enclosing_function(parents: list[ast.AST]) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in reversed(parents):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def parameters(fn: FunctionNode) -> list[str]:
    return [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]


def statements(fn: FunctionNode) -> list[ast.AST]:
    """Every statement of `fn`, nested ones included but not those of functions defined inside it."""
    if isinstance(fn, ast.Lambda):
        return [fn]
    found, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, FunctionNode) or not isinstance(node, ast.stmt | ast.excepthandler | ast.match_case):
            continue  # expressions hold no statements (a lambda's body is an expression)
        if isinstance(node, ast.stmt):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda s: (s.lineno, s.col_offset))


def targets(statement: ast.AST) -> list[ast.expr]:
    """What an assignment writes (tuple targets unpacked)."""
    if isinstance(statement, ast.Assign):
        raw = statement.targets
    elif isinstance(statement, ast.AugAssign | ast.AnnAssign):
        raw = [statement.target]
    else:
        return []
    flat = []
    for target in raw:
        flat.extend(target.elts if isinstance(target, ast.Tuple | ast.List) else [target])
    return flat


def writes_attribute(statement: ast.AST, attr: str, owner: str | None = None) -> bool:
    """Whether `statement` assigns `<owner>.<attr>` (any owner when None), plainly or augmented; a
    `setattr(owner, "attr", ...)` call counts too."""
    for target in targets(statement):
        if isinstance(target, ast.Attribute) and target.attr == attr and (
                owner is None or (isinstance(target.value, ast.Name) and target.value.id == owner)):
            return True
    for node in ast.walk(statement) if isinstance(statement, ast.Expr | ast.Lambda) else ():
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == attr
                and (owner is None or (isinstance(node.args[0], ast.Name) and node.args[0].id == owner))):
            return True
    return False


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def hands_over(node: ast.AST, name: str) -> bool:
    """Whether `node` calls something with the variable `name` itself as an argument (a helper that adds
    into its `.grad`)."""
    return any(isinstance(n, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in n.args)
               for n in ast.walk(node))


def appended_to(node: ast.AST) -> set[str]:
    """The names of the lists `node` appends to (`topo.append(v)` gives {"topo"})."""
    return {n.func.value.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and n.func.attr == "append" and isinstance(n.func.value, ast.Name)}


def calls_method(node: ast.AST, name: str) -> bool:
    """Whether `node` calls `<something>.name(...)`."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == name
               for n in ast.walk(node))


def mentions_attribute(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == name for n in ast.walk(node))


def end_of(fn: FunctionNode) -> int:
    """The line after the last statement of `fn`: where a missing final statement belongs."""
    return (fn.body[-1].end_lineno or fn.body[-1].lineno) + 1 if not isinstance(fn, ast.Lambda) else fn.lineno


# ---------------------------------------------------------------------------------------------- operations

def output_name(method: ast.FunctionDef) -> str | None:
    """The local variable that holds the op's result: the one given a `_backward`, else the one returned."""
    for statement in statements(method):
        for target in targets(statement):
            if (isinstance(target, ast.Attribute) and target.attr == "_backward"
                    and isinstance(target.value, ast.Name)):
                return target.value.id
    for statement in statements(method):
        if isinstance(statement, ast.Return) and isinstance(statement.value, ast.Name):
            return statement.value.id
    return None


def gradient_line(tree: ast.AST, closure_line: int, input_index: int) -> int | None:
    """In the `_backward` closure starting at `closure_line`, the statement that writes the gradient of
    input `input_index` (0 is the method's `self`, 1 its `other`).

    In order: a write to `<input>.grad`; a statement handing the input to a helper; the only `.grad` write
    that is not the output's (a loop over children, as in microgpt); any `.grad` write (into the wrong
    node); the closure's first statement."""
    found = function_at(tree, closure_line)
    if not found:
        return None
    closure, parents = found
    method = enclosing_function(parents)
    params = parameters(method) if method else []
    name = params[input_index] if input_index < len(params) else None
    body = statements(closure)
    out = output_name(method) if method else None
    for rule in (lambda s: name is not None and writes_attribute(s, "grad", name),
                 lambda s: name is not None and isinstance(s, ast.Expr) and hands_over(s, name),
                 lambda s: any(writes_attribute(s, "grad", owner) for owner in names_in(s) - {out}),
                 lambda s: writes_attribute(s, "grad")):
        lines = [s.lineno for s in body if rule(s)]
        if lines:
            return lines[0]
    if isinstance(closure, ast.Lambda):
        return closure.lineno
    return body[0].lineno if body else closure.lineno


def wrong_node_line(tree: ast.AST, closure_line: int) -> int | None:
    """The closure's write into its own output's `.grad`, or else its first `.grad` write."""
    found = function_at(tree, closure_line)
    if not found:
        return None
    closure, parents = found
    method = enclosing_function(parents)
    out = output_name(method) if method else None
    body = statements(closure)
    lines = [s.lineno for s in body if out is not None and writes_attribute(s, "grad", out)]
    written: set[str] = set()
    for statement in body:  # else a second write into a node already written: another input's share
        owners = {o for o in names_in(statement) if writes_attribute(statement, "grad", o)}
        if owners & written:
            lines.append(statement.lineno)
        written |= owners
    lines += [s.lineno for s in body if writes_attribute(s, "grad")]
    return lines[0] if lines else None


def method_at(tree: ast.AST, line: int) -> ast.FunctionDef | None:
    found = function_at(tree, line)
    return found[0] if found and isinstance(found[0], ast.FunctionDef | ast.AsyncFunctionDef) else None


def build_line(tree: ast.AST, method_line: int) -> int | None:
    """The statement that builds the op's output (`out = Value(...)`, or what a composite op returns)."""
    return forward_line(tree, method_line, follow=False)


def forward_line(tree: ast.AST, method_line: int, follow: bool = True) -> int | None:
    """The statement of the op's method that computes its output's value: `out = Value(<expr>, ...)`
    (following `<expr>` to its assignment when it is a plain name, like the lecture's `t` in tanh), or the
    returned expression of a composite op."""
    method = method_at(tree, method_line)
    if method is None:
        return None
    body = statements(method)
    out = output_name(method)
    builds = [s for s in body if isinstance(s, ast.Assign) and isinstance(s.value, ast.Call)
              and any(isinstance(t, ast.Name) and t.id == out for t in s.targets)]
    builds += [s for s in body if isinstance(s, ast.Return) and isinstance(s.value, ast.Call)
               and _is_value_call(s.value)]
    if builds:
        build = builds[0]
        call = build.value
        if follow and call.args and isinstance(call.args[0], ast.Name):
            earlier = [s for s in body if s.lineno < build.lineno
                       and any(isinstance(t, ast.Name) and t.id == call.args[0].id for t in targets(s))]
            if earlier:
                return earlier[-1].lineno
        return build.lineno
    returns = [s for s in body if isinstance(s, ast.Return) and s.value is not None]
    return returns[-1].lineno if returns else None


def _is_value_call(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id[:1].isupper()) or (
        isinstance(func, ast.Attribute) and func.attr == "__class__") or (
        isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "type")


def missing_return_line(tree: ast.AST, method_line: int) -> int | None:
    """Where an op that returns nothing should return: its last statement when that computes a value and
    drops it (`self * -1`), else the line after its last statement."""
    method = method_at(tree, method_line)
    if method is None:
        return None
    last = method.body[-1]
    return last.lineno if isinstance(last, ast.Expr) and not isinstance(last.value, ast.Constant) else end_of(method)


def unattached_closure_line(tree: ast.AST, method_line: int) -> int | None:
    """An op whose output has no `_backward` of its own: the line after the closure it defines but never
    attaches, or the method itself when it defines none."""
    method = method_at(tree, method_line)
    if method is None:
        return None
    closures = [n for n in ast.walk(method) if n is not method and isinstance(n, ast.FunctionDef)]
    if not closures:
        return first_line_of(method)
    end = closures[0].end_lineno or closures[0].lineno
    after = [s.lineno for s in statements(method) if s.lineno > end]
    return after[0] if after else end + 1


def missing_method_line(cls: ast.ClassDef, name: str, expected: tuple[str, ...] = (), beside: str | None = None) -> int:
    """Where a method the class lacks should be: a method of a similar name (a misspelling such as `add`
    for `__add__` or `tanH` for `tanh`), else the method `beside` it belongs with (the op a reflected
    method serves: `__add__` for `__radd__`), else the class line. Names in `expected` are the class's
    other expected methods, never taken for a misspelling."""
    def plain(n: str) -> str:
        return n.strip("_").lower()
    want = plain(name)
    methods = [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
               and n.name != name and n.name not in expected]
    for method in methods:
        if plain(method.name) == want:
            return first_line_of(method)
    scored = [(difflib.SequenceMatcher(None, plain(m.name), want).ratio(), m) for m in methods]
    scored += [(0.9, m) for m in methods if len(plain(m.name)) >= 3 and (want in plain(m.name) or plain(m.name) in want)]
    scored = [(r, m) for r, m in scored if r >= 0.75]
    if scored:
        return first_line_of(max(scored, key=lambda rm: rm[0])[1])
    partner = next((m for m in cls.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name == beside), None)
    return first_line_of(partner) if partner is not None else cls.lineno


# ---------------------------------------------------------------------------------------------- backward()

def _backward_loop(fn: FunctionNode) -> ast.AST | None:
    """The statement of `backward()` that calls the nodes' `_backward` (the loop, or the lone call); in an
    engine that keeps local gradients instead of closures, the loop that adds them into the children's
    `.grad`."""
    for statement in fn.body:
        if calls_method(statement, "_backward"):
            return statement
    for statement in statements(fn):
        if calls_method(statement, "_backward"):
            return statement
    for statement in fn.body:
        if isinstance(statement, ast.For | ast.While) and any(writes_attribute(s, "grad") for s in ast.walk(statement)
                                                              if isinstance(s, ast.stmt) and s is not statement):
            return statement
    return None


def seed_line(tree: ast.AST, backward_line: int) -> int | None:
    """The statement that seeds the output's gradient, or the one it must precede: the `_backward` loop,
    or the assignments written right above it that start the walk (`ready = [self]`)."""
    fn = method_at(tree, backward_line)
    if fn is None:
        return None
    params = parameters(fn)
    me = params[0] if params else "self"
    for statement in statements(fn):
        if writes_attribute(statement, "grad", me):
            return statement.lineno
    loop = _backward_loop(fn)
    if loop is None:
        return None
    start = loop
    above = [s for s in fn.body if s.lineno < loop.lineno]
    while above and isinstance(above[-1], ast.Assign) and (above[-1].end_lineno or 0) == start.lineno - 1:
        start = above.pop()
    return start.lineno


def order_line(tree: ast.AST, backward_line: int) -> int | None:
    """For a wrong order: the `_backward` loop, unless it already walks the order reversed, in which
    case the order itself is built wrong (the topological sort's append)."""
    fn = method_at(tree, backward_line)
    if fn is None:
        return None
    loop = _backward_loop(fn)
    if loop is None:
        return None
    reversed_already = any(
        (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "reversed")
        or (isinstance(n, ast.Slice) and n.step is not None) for n in ast.walk(loop)) or any(
        calls_method(s, "reverse") for s in statements(fn) if s.lineno < loop.lineno)
    if reversed_already:
        return topo_append_line(tree, backward_line) or loop.lineno
    return loop.lineno


def topo_append_line(tree: ast.AST, backward_line: int) -> int | None:
    """The statement that appends a node to the topological order (in `backward()` or a helper inside
    it); without one, a recursive `.backward()` call."""
    fn = method_at(tree, backward_line)
    if fn is None:
        return None
    everything = sorted((n for n in ast.walk(fn) if isinstance(n, ast.stmt) and n is not fn),
                        key=lambda s: (s.lineno, s.col_offset))
    appends = [s for s in everything if isinstance(s, ast.Expr) and calls_method(s, "append")]
    loop = _backward_loop(fn)
    walked = names_in(loop.iter) if isinstance(loop, ast.For) else set()
    into_order = [s for s in appends if appended_to(s) & walked]  # the order, not a work stack
    if into_order or appends:
        return (into_order or appends)[0].lineno
    recursive = [s for s in everything if isinstance(s, ast.Expr) and calls_method(s, "backward")]
    return recursive[0].lineno if recursive else None


def backward_call_line(tree: ast.AST, backward_line: int) -> int | None:
    """The `_backward` loop of `backward()` (for nodes whose `_backward` never ran)."""
    fn = method_at(tree, backward_line)
    loop = _backward_loop(fn) if fn else None
    return loop.lineno if loop else None


# ---------------------------------------------------------------------------------------------- zero_grad()

def reset_line(tree: ast.AST, zero_grad_line: int) -> int | None:
    """For parameters that keep a gradient: a method named but never called (`m.zero_grad`); where the
    resets cover only some of the module's own collections (`for w in self.w`), the line after them, where
    the missing reset belongs; the loop over the parameters when it does write `.grad` (it misses some);
    else the statement inside it that should (`p = 0`, a rebinding)."""
    fn = method_at(tree, zero_grad_line)
    if fn is None:
        return None
    body = statements(fn)
    uncalled = [s for s in body if isinstance(s, ast.Expr) and isinstance(s.value, ast.Attribute)]
    if uncalled:
        return uncalled[0].lineno
    loops = [s for s in body if isinstance(s, ast.For | ast.While)]
    if any(writes_attribute(s, "grad") for s in body):
        if loops and not isinstance(fn, ast.Lambda) and all(_over_own_collection(loop) for loop in loops):
            return end_of(fn)
        return loops[0].lineno if loops else next(s.lineno for s in body if writes_attribute(s, "grad"))
    if loops and loops[0].body:
        return loops[0].body[0].lineno
    return body[0].lineno if body else None


def _over_own_collection(loop: ast.AST) -> bool:
    """Whether a loop walks one of the module's own collections (`self.w`, `self.own_parameters()`) rather
    than everything `parameters()` returns (or an index range over it)."""
    it = getattr(loop, "iter", None)
    if isinstance(it, ast.Call):
        it = it.func
        if isinstance(it, ast.Attribute) and it.attr == "parameters":
            return False
    return isinstance(it, ast.Attribute) and isinstance(it.value, ast.Name) and it.value.id == "self"


def first_write_line(tree: ast.AST, line: int, attribute: str) -> int | None:
    """The first statement of the function at `line` that writes `.attribute`."""
    fn = method_at(tree, line)
    lines = [s.lineno for s in statements(fn) if writes_attribute(s, attribute)] if fn else []
    return lines[0] if lines else None


def data_write_line(tree: ast.AST, zero_grad_line: int, data: str = "data") -> int | None:
    """The statement of zero_grad that writes `.data` (the engine's attribute for it)."""
    return first_write_line(tree, zero_grad_line, data)


def grad_write_line(tree: ast.AST, zero_grad_line: int, grad: str = "grad") -> int | None:
    """The statement of zero_grad that writes `.grad` (for a gradient that is not a number)."""
    return first_write_line(tree, zero_grad_line, grad)


# ---------------------------------------------------------------------------------------------- train()

def update_line(tree: ast.AST, train_line: int, data: str = "data") -> int | None:
    """The statement that moves a parameter (any write to a `.data`, or the engine's attribute for it:
    the update of gradient descent)."""
    return first_write_line(tree, train_line, data)


def zero_grad_line(tree: ast.AST, train_line: int) -> int | None:
    """The zero_grad call (or a loop resetting `.grad`); when there is none, the backward call it must precede."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    body = statements(fn)
    for rule in (lambda s: isinstance(s, ast.Expr) and calls_method(s, "zero_grad"),
                 lambda s: writes_attribute(s, "grad")):
        lines = [s.lineno for s in body if rule(s)]
        if lines:
            return lines[0]
    return backward_mention_line(tree, train_line)


def resets_line(tree: ast.AST, train_line: int, grad: str = "grad") -> int | None:
    """The first statement of train() that resets gradients (a zero_grad call, or `.grad` written by hand)."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    lines = [s.lineno for s in statements(fn) if (isinstance(s, ast.Expr) and calls_method(s, "zero_grad"))
             or writes_attribute(s, grad)]
    return lines[0] if lines else None


def reset_after_backward_line(tree: ast.AST, train_line: int) -> int | None:
    """A reset of the gradients (a zero_grad call, or `.grad` written by hand) between the backward call
    and the update, where it wipes the gradients the update needs."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    body = statements(fn)
    backward = [s.lineno for s in body if isinstance(s, ast.Expr) and calls_method(s, "backward")]
    updates = [s.lineno for s in body if writes_attribute(s, "data")]
    resets = [s.lineno for s in body if (isinstance(s, ast.Expr) and calls_method(s, "zero_grad"))
              or writes_attribute(s, "grad")]
    if not (backward and updates):
        return None
    return next((line for line in resets if backward[0] < line < updates[0]), None)


def backward_mention_line(tree: ast.AST, train_line: int) -> int | None:
    """The statement that calls (or names without calling) `.backward`."""
    fn = method_at(tree, train_line)
    lines = [s.lineno for s in statements(fn) if isinstance(s, ast.Expr) and mentions_attribute(s, "backward")] \
        if fn else []
    return lines[0] if lines else None


def loss_line(tree: ast.AST, train_line: int) -> int | None:
    """The statement computing the loss: the last assignment, before the backward call, of the name whose
    `.backward()` is called."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    body = statements(fn)
    calls = [n for s in body for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "backward" and isinstance(n.func.value, ast.Name)]
    name = calls[0].func.value.id if calls else "loss"
    before = calls[0].lineno if calls else 10**9
    found = [s for s in body if s.lineno <= before and any(isinstance(t, ast.Name) and t.id == name
                                                            for t in targets(s))]
    if not found:
        return None
    return helper_return_line(tree, found[-1].value) or found[-1].lineno


def helper_return_line(tree: ast.AST, value: ast.AST | None) -> int | None:
    """When `value` calls a function of the same file (a `squared_error` helper), the line it returns from."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    helpers = [n for n in getattr(tree, "body", ()) if isinstance(n, ast.FunctionDef) and n.name == value.func.id]
    returns = [s.lineno for s in statements(helpers[0]) if isinstance(s, ast.Return) and s.value] if helpers else []
    return returns[-1] if returns else None


def record_line(tree: ast.AST, train_line: int) -> int | None:
    """The statement that records a step's loss (`losses.append(...)`)."""
    fn = method_at(tree, train_line)
    lines = [s.lineno for s in statements(fn) if isinstance(s, ast.Expr) and calls_method(s, "append")] if fn else []
    return lines[0] if lines else None


def steps_line(tree: ast.AST, train_line: int) -> int | None:
    """For a wrong number of losses: the loop over steps when the recording sits directly in it; the
    recording itself when it sits in a loop inside that one (it runs more than once a step) or outside
    every loop."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    for loop in (s for s in statements(fn) if isinstance(s, ast.For | ast.While)):
        records = [s for s in ast.walk(loop) if isinstance(s, ast.Expr) and calls_method(s, "append")]
        if records:
            inner = [s for s in ast.walk(loop) if s is not loop and isinstance(s, ast.For | ast.While)
                     and any(r in ast.walk(s) for r in records)]
            return records[0].lineno if inner else loop.lineno
    return record_line(tree, train_line) or return_line(tree, train_line)


def return_line(tree: ast.AST, train_line: int) -> int | None:
    """The return statement of train(), or the line after its last statement when it has none."""
    fn = method_at(tree, train_line)
    if fn is None:
        return None
    returns = [s.lineno for s in statements(fn) if isinstance(s, ast.Return)]
    return returns[-1] if returns else end_of(fn)


# ---------------------------------------------------------------------------------------------- for the judge

def blame(ev, raw, locator: Callable[..., int | None], *args) -> tuple[str, int] | None:
    """The student's `file:line` of the statement `locator` finds in the function the child reported as
    `raw` ([staged file, first line]); the function's first line when no statement is found."""
    return located(ev, raw, locator, *args) or ev.where(raw)


def located(ev, raw, locator: Callable[..., int | None], *args) -> tuple[str, int] | None:
    """The student's `file:line` of the statement `locator` finds, or None when it finds none."""
    if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], str) and isinstance(raw[1], int)):
        return None
    tree = ev.sources.tree(raw[0])
    try:
        line = locator(tree, raw[1], *args) if tree is not None else None
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError, IndexError):
        line = None  # an unusual tree costs the statement, never the check: the first line is kept
    return ev.locate(raw[0], line) if isinstance(line, int) else None


def blame_missing_method(ev, class_name: str, method: str, expected: tuple[str, ...] = (),
                         beside: str | None = None) -> tuple[str, int] | None:
    """Where a missing method belongs: a misspelt method of `class_name`, else the method it serves, else
    the class line."""
    found = ev.sources.find_class(class_name)
    if found is None:
        return None
    key, cls = found
    return ev.locate(key, missing_method_line(cls, method, expected, beside))


def closure_in_method(ev, closure_raw, method_raw) -> bool:
    """Whether the `_backward` the child found on the output was defined inside the op's own method (not
    `Value.__init__`'s default, nor another op's closure)."""
    valid = all(isinstance(r, list) and len(r) == 2 and isinstance(r[1], int) for r in (closure_raw, method_raw))
    if not valid or closure_raw[0] != method_raw[0]:
        return False
    tree = ev.sources.tree(closure_raw[0])
    found = function_at(tree, closure_raw[1]) if tree is not None else None
    if not found:
        return False
    method = enclosing_function(found[1])
    return method is not None and first_line_of(method) == method_raw[1]


def attach_line(tree: ast.AST, method_line: int) -> int | None:
    """The statement that attaches the closure (`out._backward = ...`)."""
    method = method_at(tree, method_line)
    lines = [s.lineno for s in statements(method) if writes_attribute(s, "_backward")] if method else []
    return lines[0] if lines else None


def gradient_where(ev, student: dict, code: str, input_index: int) -> tuple[str, int] | None:
    """Where an op's wrong gradient comes from: the statement of its own closure that writes that input's
    gradient (or the misdirected write); for an op without a closure of its own, where the closure
    belongs; for a composite op running another op's closure, the expression it is built from."""
    closure, method = student.get("backward_where"), student.get("method_where")
    if closure_in_method(ev, closure, method):
        if code == "wrong_node":
            return blame(ev, closure, wrong_node_line)
        return blame(ev, closure, gradient_line, input_index)
    if code in ("no_gradient", "wrong_node") and not ev.keeps_local_grads:
        return blame(ev, method, unattached_closure_line) or ev.where(closure)
    # Local gradients are written where the output is built (`Value(e, (self,), (e,))`): that statement,
    # not the assignment of the value it holds.
    return blame(ev, method, forward_line, not ev.keeps_local_grads) or ev.where(closure)
