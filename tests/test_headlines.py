"""The headline registry (each model's HEADLINES) and the never-overwrite file writer."""
import pytest

from models import china, engine
from models.errors import EqrError
from models.headlines import headlines, outputs_for
from models.newfile import write_new


def test_china_headlines_per_period(base):
    specs = engine.build_specs(base)
    names = [h.output for h in headlines(specs)]
    for item in ("reported_revenue", "gross_profit", "gross_margin", "eps_contribution"):
        for p in base.periods("china"):
            assert f"china.{item}.{p}" in names
    units = {h.row: h.unit for h in headlines(specs)}
    assert units["china.gross_margin"] == "fraction"
    assert units["china.eps_contribution"] == "USD per share"


def test_a_model_without_headlines_has_none_and_bad_names_are_caught(base, monkeypatch):
    specs = engine.build_specs(base)
    monkeypatch.delattr(china, "HEADLINES")
    assert [h for h in headlines(specs) if h.row.startswith("china.")] == []
    monkeypatch.setattr(china, "HEADLINES", ("gross_proft",), raising=False)
    with pytest.raises(EqrError, match="china.gross_proft"):
        headlines(specs)
    monkeypatch.setattr(china, "HEADLINES", "gross_profit")
    with pytest.raises(EqrError, match="tuple of row names"):
        headlines(specs)


def test_extra_outputs_by_row_or_by_period(base):
    specs = engine.build_specs(base)
    assert [h.output for h in outputs_for(specs, ["china.levy.CY2027"])] == ["china.levy.CY2027"]
    assert len(outputs_for(specs, ["china.levy"])) == 4
    with pytest.raises(EqrError, match="unknown period"):
        outputs_for(specs, ["china.levy.CY2099"])
    with pytest.raises(EqrError, match="did you mean 'levy'"):
        outputs_for(specs, ["china.lev"])


def test_write_new_never_overwrites_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "diff.md"
    write_new(path, "first")
    with pytest.raises(EqrError, match="exists already"):
        write_new(path, "second")
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["diff.md"]
    with pytest.raises(EqrError, match="folder does not exist"):
        write_new(tmp_path / "missing" / "x.md", "x")


def test_a_headline_can_name_one_period_of_a_series(base, monkeypatch):
    """depreciation lists ``<company>_eps_change_sl_critic.FY2026``: one output, not ten."""
    specs = engine.build_specs(base)
    names = [h.output for h in headlines(specs)]
    assert "depreciation.meta_eps_change_sl_critic.FY2026" in names
    assert "depreciation.meta_eps_change_sl_critic.FY2025" not in names
    monkeypatch.setattr(china, "HEADLINES", ("gross_profit.CY2099",))
    with pytest.raises(EqrError, match="headline period"):
        headlines(specs)
    monkeypatch.setattr(china, "HEADLINES", ("gross_profit.CY2026",))
    assert [h.output for h in headlines(specs) if h.row.startswith("china.")] == \
        ["china.gross_profit.CY2026"]
