"""Where `layerscope check` gets its budget, in order of precedence.

1. flags (``--rule NAME=VALUE``, ``--disable NAME``, ``--warn-only NAME`` and dive's
   ``--lowestEfficiency``, ``--highestWastedBytes``, ``--highestUserWastedPercent``);
2. ``--config FILE`` (TOML, or a dive `.dive-ci` YAML file when its name does not end in .toml);
3. ``.layerscope.toml`` in the working folder;
4. ``[tool.layerscope]`` in ``pyproject.toml`` in the working folder;
5. ``.dive-ci`` in the working folder, read as dive 0.13.1 reads it;
6. nothing: dive's defaults (lowest efficiency 0.9, user-wasted ratio 0.1, wasted bytes off).

The first file found is the one used; flags then change single rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from layerscope.analysis.rules import RuleId, RuleSettings, Severity, default_settings
from layerscope.errors import ConfigError

from .dive import DiveValue, dive_rule, read_dive_ci
from .toml import parse_threshold, read_layerscope_toml

__all__ = ["BudgetConfig", "ConfigSource", "load_budget_config", "parse_threshold"]


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """The file the budget came from."""

    kind: str
    """``defaults`` (none found: dive's defaults), ``layerscope`` or ``dive``."""
    path: str | None


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    """Every rule's settings, and the options the config file gave."""

    rules: tuple[RuleSettings, ...]
    source: ConfigSource
    dockerfile: str | None = None
    baseline: str | None = None

    def settings(self) -> dict[RuleId, RuleSettings]:
        return {rule.id: rule for rule in self.rules}


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {shown}: {reason}") from exc


def _from_file(path: Path, shown: str, *, force_dive: bool = False) -> BudgetConfig | None:
    text = _read(path, shown)
    if force_dive or not path.name.endswith(".toml"):
        rules = default_settings() | read_dive_ci(text, shown)
        return BudgetConfig(tuple(rules.values()), ConfigSource("dive", shown))
    prefix = ("tool", "layerscope") if path.name == "pyproject.toml" else ()
    found = read_layerscope_toml(text, shown, prefix, defaults=default_settings())
    if found is None:
        return None
    source = ConfigSource("layerscope", shown + (" [tool.layerscope]" if prefix else ""))
    return BudgetConfig(found.rules, source, found.dockerfile, found.baseline)


def _discover(config: str | None, cwd: Path) -> BudgetConfig:
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise ConfigError(f"config file {config} does not exist")
        found = _from_file(path, config)
        if found is None:
            raise ConfigError(f"{config}: no [tool.layerscope] table")
        return found
    for name in (".layerscope.toml", "pyproject.toml", ".dive-ci"):
        path = cwd / name
        if path.is_file():
            found = _from_file(path, name, force_dive=name == ".dive-ci")
            if found is not None:
                return found
    return BudgetConfig(tuple(default_settings().values()), ConfigSource("defaults", None))


def load_budget_config(
    *,
    config: str | None = None,
    cwd: Path | None = None,
    dive_flags: Mapping[str, str | None] | None = None,
    rules: Sequence[str] = (),
    disable: Sequence[str] = (),
    warn_only: Sequence[str] = (),
) -> BudgetConfig:
    """The budget for one run: the first config file found (see the module doc), then flags.

    ``dive_flags`` maps dive's flag names to their values (None: not given), read with dive's
    semantics; ``rules`` holds ``NAME=VALUE`` strings; ``disable`` and ``warn_only`` rule names.
    """
    found = _discover(config, cwd or Path.cwd())
    settings = found.settings()
    for key, value in (dive_flags or {}).items():
        if value is not None:
            rule = dive_rule(DiveValue(key, value, None), f"--{key}")
            settings[rule.id] = replace(rule, severity=settings[rule.id].severity)
    for item in rules:
        name, sep, value = item.partition("=")
        name = name.strip()
        rule_id = _known(name, "--rule")
        if not sep:
            raise ConfigError(f"--rule {item}: expected NAME=VALUE")
        try:
            threshold = parse_threshold(rule_id, value.strip())
        except ValueError as exc:
            raise ConfigError(f"--rule {name}: {exc}") from exc
        settings[rule_id] = replace(settings[rule_id], threshold=threshold, enabled=True)
    for name in disable:
        rule_id = _known(name, "--disable")
        settings[rule_id] = replace(settings[rule_id], enabled=False)
    for name in warn_only:
        rule_id = _known(name, "--warn-only")
        settings[rule_id] = replace(settings[rule_id], severity=Severity.WARNING)
    return replace(found, rules=tuple(settings.values()))


def _known(name: str, flag: str) -> RuleId:
    try:
        return RuleId(name)
    except ValueError:
        known = ", ".join(RuleId)
        raise ConfigError(f"{flag} {name}: unknown rule (known: {known})") from None
