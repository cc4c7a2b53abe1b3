"""The formula language: closed forms, jit/grad/vmap, hostile inputs, fuzzing.

The fuzzing runs 4 x 3,000 = 12,000 generated inputs (random text, random
printable ASCII, grammar-shaped formulas and near-misses of them); nothing
but ValueError may escape (the "ci" hypothesis profile; "dev" runs fewer).
"""

from __future__ import annotations

import math
import string

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l2l_core import expr
from l2l_core.expr import compile_expression, problem_from_formula
from l2l_core.inner.unroll import resolve_problem, sgd_momentum_unroll
from l2l_core.tasks.problems import PROBLEMS

XS = np.linspace(-4.5, 4.5, 401).astype(np.float32)


# -- correctness -----------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_formula_of_each_preset_matches_its_closed_form(name):
    p = PROBLEMS[name]
    f = compile_expression(p.formula)
    np.testing.assert_allclose(np.asarray(f(XS)), np.asarray(p.loss(XS)), rtol=1e-5, atol=1e-5)
    g = jax.jit(jax.vmap(jax.grad(f)))(XS)
    _, g_ref = p.value_and_grad(XS)
    np.testing.assert_allclose(np.asarray(g), np.asarray(g_ref), rtol=1e-4, atol=1e-4)


def test_closed_forms_against_numpy():
    cases = {
        "log(x**2 + 1 + sin(3*x)) + 1.5": lambda x: np.log(x**2 + 1 + np.sin(3 * x)) + 1.5,
        "exp(-x**2) * cos(pi*x)": lambda x: np.exp(-(x**2)) * np.cos(np.pi * x),
        "-x + e**2 / (1 + abs(x))": lambda x: -x + np.e**2 / (1 + np.abs(x)),
        "tanh(x) - 2**-1 * x": lambda x: np.tanh(x) - 0.5 * x,
        "sqrt(x**2 + 1) + log1p(x**2) + expm1(-x**2)": lambda x: np.sqrt(x**2 + 1)
        + np.log1p(x**2) + np.expm1(-(x**2)),
        "3": lambda x: np.full_like(x, 3.0),
        "--x": lambda x: x,
    }
    for text, ref in cases.items():
        np.testing.assert_allclose(np.asarray(compile_expression(text)(XS)), ref(XS.astype(np.float64)),
                                   rtol=2e-5, atol=2e-5, err_msg=text)


def test_gradient_matches_finite_differences_and_is_jittable():
    f = compile_expression("sin(x)**3 / (2 + cos(x)) + x**-2")
    x = np.float64(1.3)
    fd = (float(f(np.float32(x + 1e-3))) - float(f(np.float32(x - 1e-3)))) / 2e-3
    assert float(jax.jit(jax.grad(f))(jnp.float32(x))) == pytest.approx(fd, rel=2e-3)


def test_same_text_same_function_object_and_no_recompile():
    assert compile_expression("x**2 + 1") is compile_expression("  x ** 2+1 ")
    p1, p2 = problem_from_formula("(x**2)/2"), problem_from_formula("x ** 2 / 2")
    assert p1 is p2 and p1.value_and_grad is p2.value_and_grad
    assert compile_expression("x**2") is not compile_expression("x**3")


def test_problem_from_formula_value_and_grad_is_elementwise_and_vmappable():
    p = problem_from_formula("0.5*x**2 + sin(x)")
    v, g = p.value_and_grad(jnp.asarray(XS))
    np.testing.assert_allclose(np.asarray(v), 0.5 * XS**2 + np.sin(XS), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(g), XS + np.cos(XS), rtol=1e-5, atol=1e-5)
    v2, g2 = jax.vmap(p.value_and_grad)(jnp.asarray(XS))
    np.testing.assert_allclose(np.asarray(g2), np.asarray(g), rtol=1e-6)
    assert p.x_range == expr.FORMULA_X_RANGE


def test_formula_works_everywhere_a_preset_does():
    preset = PROBLEMS["parabola"]
    typed = resolve_problem("x**2 / 2")
    a = sgd_momentum_unroll(preset, lr=0.1, momentum=0.9, steps=30)
    b = sgd_momentum_unroll("x**2 / 2", lr=0.1, momentum=0.9, steps=30)
    np.testing.assert_allclose(b.xs, a.xs, rtol=1e-5, atol=1e-6)
    from l2l_core import landscape

    lrs, omm = np.linspace(-2, 0.5, 9), np.linspace(-2, 0, 7)
    za = landscape.meta_loss_grid(lrs, omm, problem="parabola", steps=20)
    zb = landscape.meta_loss_grid(lrs, omm, problem=typed, steps=20)
    np.testing.assert_allclose(zb, za, rtol=1e-4, atol=1e-5, equal_nan=True)


def test_resolve_problem_error_names_both_readings():
    with pytest.raises(ValueError, match="not a preset") as e:
        resolve_problem("quadratc")
    assert "unknown name 'quadratc'" in str(e.value)
    with pytest.raises(ValueError, match="not a preset"):
        resolve_problem("x.__class__")
    with pytest.raises(ValueError):
        resolve_problem(42)


def test_cli_accepts_a_formula_and_refuses_a_bad_one(tmp_path, capsys):
    from l2l_core.cli.commands import main

    assert main(["sweep", "--points", "8", "--steps", "5", "--problem", "x**2/2",
                 "--out", str(tmp_path / "s.npz")]) == 0
    assert main(["sweep", "--points", "8", "--problem", "__import__('os')",
                 "--out", str(tmp_path / "t.npz")]) == 2
    err = capsys.readouterr().err
    assert "not a preset" in err and "__import__" in err
    assert not (tmp_path / "t.npz").exists()


# -- hostile inputs ----------------------------------------------------------------

HOSTILE = [
    # attribute and dunder access
    "x.__class__", "x.__class__.__bases__[0].__subclasses__()", "().__class__",
    "sin.__globals__", "x.real", "(1).__add__(2)", "__builtins__", "__import__",
    # imports and calls of unknown names
    "__import__('os').system('true')", "import os", "open('/etc/passwd')",
    "getattr(x, 'y')", "globals()", "vars()", "breakpoint()", "exit()",
    "compile('1', 'a', 'eval')", "os.system('true')", "jnp.sin(x)", "np.sin(x)",
    "sin(x)(x)", "sin(sin)(x)", "(lambda: 1)()",
    # comprehensions, lambdas, walrus, conditionals
    "[x for x in range(9)]", "{x for x in (1,)}", "{x: x for x in (1,)}",
    "sum(x for x in (1, 2))", "lambda x: x", "(y := 2)", "(x := 2) + x",
    "x if x > 0 else -x", "x > 0", "x and 1", "not x", "x == 1",
    # huge powers
    "9**9**9", "x**1000", "2**10000", "x**(10**10)", "(1e300)**x + x**1e300",
    "exp(exp(exp(9)))**x + x**exp(9)", "x**-1000", "x**(1/0)", "10**(10**(10**10))",
    # deep nesting and size
    "(" * 100 + "x" + ")" * 100, "-" * 150 + "x", "sin(" * 30 + "x" + ")" * 30,
    "+".join(["x"] * 150), "x" + "*x" * 100, "1" * 201, "x+" * 99 + "x",
    # control characters and non-ASCII
    "x\n+1", "x\x00", "x\r", "x\t+ 1", "\x1bx", "x\x7f", "ｘ**2", "x\u200b", "x\u2028",
    "𝐱", "ⅹ",
    # keyword args, wrong arity, starred, subscripts
    "sin(x=1)", "sin(x, x)", "sin()", "sin(*[x])", "sin(**{})", "x[0]", "x[1:2]",
    # strings, bytes, f-strings, other literals
    "'x'", "b'x'", "f'{x}'", "f'{__import__(1)}'", "True", "None", "1j", "...",
    "[1, 2]", "(1, 2)", "{}", "x, x",
    # operators outside the grammar and statements
    "x ^ 2", "x % 2", "x // 2", "x @ x", "x << 1", "~x", "x | 1", "x = 1", "del x",
    "x; x", "await x", "yield x", "print(x)", "pi()", "e(x)", "sin", "x x", "",
    "   ", "x +", "((x)", "1e999 * x",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_refused_with_a_value_error(text):
    with pytest.raises(ValueError) as e:
        compile_expression(text)  # refused by the parser, never evaluated
    assert str(e.value)


def test_messages_point_at_the_problem():
    def msg(t):
        with pytest.raises(ValueError) as e:
            compile_expression(t)
        return str(e.value)

    assert "column 5" in msg("x + y.z") and "attribute" in msg("x + y.z")
    assert "'^'" in msg("x^2") and "**" in msg("x^2")
    assert "column 2" in msg("x\n")
    assert "exponent" in msg("9**9**9")
    assert "unknown function 'foo'" in msg("foo(x)")
    assert "200" in msg("x" * 201)
    assert "nested" in msg("-" * 60 + "x")


def test_nothing_evaluates_the_text():
    # A formula that would have side effects if it were run as Python.
    flag = []
    import builtins

    builtins._l2l_flag = flag  # reachable only through real evaluation
    try:
        with pytest.raises(ValueError):
            compile_expression("__builtins__._l2l_flag.append(1)")
        assert flag == []
    finally:
        del builtins._l2l_flag


# -- fuzzing: 4 x 3,000 = 12,000 generated inputs -------------------------------

# Examples per fuzzer come from the hypothesis profile (conftest.py: 3,000 in "ci").
FUZZ = settings()
ATOMS = ["x", "pi", "e", "0", "1", "2", "3.5", "1e3", "1e308", "0.001", "9", "y", "__x", "sin",
         "X", "xx", "10**9", "True", "'s'", "None"]
FUNCS = sorted(expr.FUNCTIONS) + ["foo", "eval", "__import__", "getattr", "max", "sin.x"]
OPS = ["+", "-", "*", "/", "**", "^", "%", "//", "@", "<", "and", ",", ".", ":=", " if x else "]


def _grammar(depth: int):
    leaf = st.sampled_from(ATOMS)
    if depth == 0:
        return leaf
    sub = _grammar(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda a, op, b: f"{a} {op} {b}", sub, st.sampled_from(OPS), sub),
        st.builds(lambda u, a: f"{u}{a}", st.sampled_from(["-", "+", "--", "not ", "~"]), sub),
        st.builds(lambda a: f"({a})", sub),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCS), sub),
        st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(FUNCS), sub, sub),
        st.builds(lambda a: f"{a}[0]", sub),
        st.builds(lambda a: f"{a}.real", sub),
    )


def _mutate(text: str, data) -> str:
    """A near-miss: drop, duplicate or insert one character."""
    if not text:
        return text
    i = data.draw(st.integers(0, len(text) - 1))
    kind = data.draw(st.sampled_from(["drop", "dup", "insert"]))
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "dup":
        return text[:i] + text[i] + text[i:]
    ch = data.draw(st.sampled_from(list("()*+-/.,[]x0e'\"\\:;= \t\n\x00^%_") + ["**", "__"]))
    return text[:i] + ch + text[i:]


def _only_value_error(text):
    try:
        f = compile_expression(text)
    except ValueError:
        return None
    assert callable(f)
    return f


@pytest.mark.slow
@FUZZ
@given(st.text(max_size=300))
def test_fuzz_random_unicode_text(text):
    _only_value_error(text)


@FUZZ
@given(st.text(alphabet=string.printable, max_size=120))
def test_fuzz_random_printable_ascii(text):
    _only_value_error(text)


@pytest.mark.slow
@FUZZ
@given(_grammar(4))
def test_fuzz_grammar_shaped_formulas(text):
    f = _only_value_error(text)
    if f is not None:
        y = np.asarray(f(np.float32(0.7)))
        assert y.shape == () and y.dtype == np.float32  # a value or NaN/inf, as data


@pytest.mark.slow
@FUZZ
@given(_grammar(3), st.data())
def test_fuzz_near_misses_of_valid_formulas(text, data):
    _only_value_error(_mutate(text, data))



def test_valid_formulas_are_accepted():
    for text in ["x", "pi*x", "e**x", "2**x", "x**x", "x**(1/3)", "sin(x)**2 + cos(x)**2",
                 "-x**2", "1/(1+exp(-x))", "sigmoid(x) + softplus(x)", "abs(x)**0.5",
                 "x**-2", "(x - 1)*(x + 1)", " x ", "1e-3*x", "x**100"]:
        assert math.isfinite(float(compile_expression(text)(np.float32(0.5)))), text
