"""Fuzz the memo templates (``--templates DIR``, issue 17): hostile templates from someone else.

Each example writes a template folder whose ``sections/china.md.j2``, ``memo.md.j2`` or
``sections/china.html.j2`` carries an attack — reaching Python through ``__globals__``,
changing the figures other sections print, recursing or looping without end, writing a huge
memo — and runs ``eqr check`` on it. Every one must be refused with exit 2 naming the template
(file and line) or ``--templates``; never exit 0, never an internal error.

Fast: the models are evaluated and the charts drawn once for the module (what is fuzzed is the
template, not them), and the render deadline is half a second (``EQR_TEMPLATE_SECONDS``).
"""
from __future__ import annotations

import shutil
from unittest import mock

import pytest
from hypothesis import given, strategies as st

from fuzz_support import count_check, fuzz_settings, run_and_judge
from models import plots, runs
from models.assumptions import resolve
from models.memo import TEMPLATES_DIR

#: attacks without typed digits (a digit is refused by the memo's figure check before the
#: sandbox is even tried; these reach the sandbox and the limits)
ATTACKS = {
    "globals": [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__['os'] }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'].system('id') }}",
        "{{ ''.__class__.__mro__[-one].__subclasses__() }}",
        "{{ o.__class__.__mro__ }}",
        "{{ (o | attr('__class__')).__subclasses__() }}",
        "{{ self._TemplateReference__context.parent }}",
        "{{ range.__self__ }}",
        "{{ o.get.__self__ }}",
    ],
    "mutation": [
        "{% set _ = o.update({'valuation.price_target': o['valuation.price_target']}) %}",
        "{% set _ = a.clear() %}",
        "{% set _ = cell.pop('valuation.price_target') %}",
        "{% set _ = run.update({'run_id': 'forged'}) %}",
        "{% set _ = sources.append(none) %}",
        "{% set _ = periods['china'].append('CYforged') %}",
        "{% set _ = a['china.levy_rate'].update({'shown': 'forged'}) %}",
        "{% set _ = charts.setdefault('x', none) %}",
    ],
    "recursion": [
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{% macro f(x) %}{{ caller() }}{% call f(x) %}{{ f(x) }}{% endcall %}{% endmacro %}"
        "{% call f(none) %}{% endcall %}",
        "{% for k in [o] recursive %}{{ loop([k]) }}{% endfor %}",
    ],
    "loop": [
        "{% for a in o %}{% for b in o %}{% for c in o %}{% endfor %}{% endfor %}{% endfor %}",
        "{% for a in o %}{% for b in o %}{% for c in a %}{% endfor %}{% endfor %}{% endfor %}",
    ],
    "huge": [
        "{% set n = o | length %}{{ 'x' * n * n }}",
        "{% set n = o | length %}{{ n ** n ** n }}",
        "{% set n = o | length %}{{ ([o] * n * n) | length }}",
        "{% for a in o %}{% for b in o %}{{ a }}{{ b }}{% endfor %}{% endfor %}",
        "{% set n = o | length %}{% set s = 'abcdefghij' * n %}{% for a in o %}{{ s }}"
        "{% endfor %}",
    ],
}
TARGETS = ["sections/china.md.j2", "memo.md.j2", "sections/china.html.j2"]


@pytest.fixture(scope="session")
def cached():
    """The models evaluated and the charts drawn once (they are not what is fuzzed); session
    scope, so the check that runs with the count tests sees the same objects."""
    result = runs.prepare_run(resolve())
    figures = plots.charts_for(result, result.outputs)
    yield result, figures, dict(result.outputs)
    for chart in figures:
        plots.plt.close(chart.figure)


@fuzz_settings(8)  # about a second each: the memo renders up to the attack
@given(family=st.sampled_from(sorted(ATTACKS)), data=st.data(),
       target=st.sampled_from(TARGETS), replace=st.booleans())
def test_fuzz_hostile_templates(cached, tmp_path_factory, monkeypatch, family, data, target,
                                replace):
    attack = data.draw(st.sampled_from(ATTACKS[family]))
    folder = tmp_path_factory.mktemp("templates")
    (folder / "sections").mkdir()
    original = (TEMPLATES_DIR / target).read_text(encoding="utf-8")
    (folder / target).write_text(attack + "\n" if replace else original + "\n" + attack + "\n",
                                 encoding="utf-8")
    result, figures, _ = cached
    monkeypatch.setenv("EQR_TEMPLATE_SECONDS", "0.5")
    close = plots.plt.close

    def close_all_but_cached(figure):  # the cached figures serve every example
        if not any(figure is chart.figure for chart in figures):
            close(figure)
    with mock.patch.object(runs, "prepare_run", lambda a: result), \
            mock.patch.object(plots, "charts_for", lambda r, o: list(figures)), \
            mock.patch.object(plots.plt, "close", close_all_but_cached):
        code, err = run_and_judge("templates", ["check", "--no-compare", "--templates",
                                                str(folder)],
                                  where=(target, "--templates"))
    assert code == 2, f"a hostile template ({family}) was accepted: {attack}"
    shutil.rmtree(folder, ignore_errors=True)


def test_fuzz_hostile_templates_changed_no_figure_count(cached):
    """After every attack (this runs last, with the count tests): the figures the sandbox
    exposed are still the models' own, so no mutation got through."""
    result, _, before = cached
    assert result.outputs == before


def test_fuzz_hostile_templates_count():
    count_check("templates")
