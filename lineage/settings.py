"""One settings object, built once at the CLI edge and passed down.

Resolution order (first wins): explicit keyword arguments (the CLI flags),
environment (``NEO4J_URI``, ``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``
and every field as ``LINEAGE_<FIELD>``), a TOML config file
(``$LINEAGE_CONFIG`` or ``~/.config/lineage/config.toml``), then the local
default: the server managed by ``lineage db start`` on 127.0.0.1 with the
password it generated (``<state_dir>/neo4j/password``, mode 0600).

No other module reads ``os.environ``, with two deliberate exceptions: the CLI edge reads
``LINEAGE_DEBUG`` itself (it decides how a failure to build these settings is shown), and
an endpoint's API key is read from the variable its manifest entry names, at the moment
of the request (secrets never enter this object). ``HF_HUB_OFFLINE`` and friends are the
Hugging Face libraries' own switches; scripts set them, lineage does not read them.

:func:`load_settings` never lets a value reach an error message: a value of the wrong
type (environment, config file or keyword) becomes one :class:`~lineage.errors.ConfigError`
naming the setting and what it needs, and a config file that is not TOML, not UTF-8, a
directory or unreadable becomes one naming the file and the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def default_config_file() -> Path:
    explicit = os.environ.get("LINEAGE_CONFIG")
    return Path(explicit) if explicit else _xdg("XDG_CONFIG_HOME", ".config") / "lineage" / "config.toml"


def _alias(field: str, *extra: str) -> AliasChoices:
    return AliasChoices(f"LINEAGE_{field.upper()}", *extra)


class Settings(BaseSettings):
    """Where the graph lives, where caches go, and the DNA dimension."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias=_alias("neo4j_uri", "NEO4J_URI"))
    neo4j_user: str = Field("neo4j", validation_alias=_alias("neo4j_user", "NEO4J_USER"))
    neo4j_password: SecretStr | None = Field(
        None, validation_alias=_alias("neo4j_password", "NEO4J_PASSWORD")
    )
    neo4j_database: str = Field("neo4j", validation_alias=_alias("neo4j_database", "NEO4J_DATABASE"))
    state_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "lineage",
        validation_alias=_alias("state_dir"),
    )
    cache_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "lineage",
        validation_alias=_alias("cache_dir"),
    )
    bolt_port: int = Field(7687, validation_alias=_alias("bolt_port"))
    http_port: int = Field(7474, validation_alias=_alias("http_port"))
    heap_size: str = Field("1g", validation_alias=_alias("heap_size"))
    pagecache_size: str = Field("512m", validation_alias=_alias("pagecache_size"))
    dna_dim: int = Field(128, validation_alias=_alias("dna_dim"))
    # Below this many analysed models a batch is analysed in full, not placed (lineage.pipeline.place).
    place_min_models: int = Field(1000, ge=3, validation_alias=_alias("place_min_models"))
    # Rows per transaction when a full analysis writes the graph (lineage.pipeline.ingest.write_full_analysis):
    # bounds the transaction's memory on the server whatever the graph's size.
    write_chunk_rows: int = Field(5000, ge=1, validation_alias=_alias("write_chunk_rows"))
    java_home: Path | None = Field(None, validation_alias=AliasChoices("LINEAGE_JAVA_HOME", "JAVA_HOME"))
    #: Prefixes of the environment variables a manifest's ``api_key_env`` may name (their values are
    #: sent to the endpoint it names; see :mod:`lineage.manifest`). Each a variable-name prefix.
    api_key_prefixes: list[str] = Field(["LINEAGE_KEY_"], validation_alias=_alias("api_key_prefixes"))

    @field_validator("api_key_prefixes")
    @classmethod
    def _prefixes_name_variables(cls, v: list[str]) -> list[str]:
        import re

        if not v or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in v):
            raise ValueError("needs a list of variable-name prefixes such as [\"LINEAGE_KEY_\"] (an empty prefix "
                             "would allow every variable)")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=default_config_file())
        return (init_settings, env_settings, toml)

    # -- derived paths -------------------------------------------------
    @property
    def neo4j_home(self) -> Path:
        return self.state_dir / "neo4j"

    @property
    def password_file(self) -> Path:
        return self.neo4j_home / "password"

    @property
    def is_local(self) -> bool:
        """True when the URI points at the server `lineage db` manages."""
        return self.neo4j_uri in (
            f"bolt://127.0.0.1:{self.bolt_port}",
            f"bolt://localhost:{self.bolt_port}",
            f"neo4j://127.0.0.1:{self.bolt_port}",
            f"neo4j://localhost:{self.bolt_port}",
        )

    def resolved_password(self) -> str | None:
        """The explicit password, else the local server's generated one."""
        if self.neo4j_password is not None:
            return self.neo4j_password.get_secret_value()
        if self.is_local and self.password_file.is_file():
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
        return None


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``None`` overrides (unset CLI flags) are ignored.

    Raises :class:`~lineage.errors.ConfigError` (never echoing a value) for a value of the
    wrong type or an unusable config file."""
    import tomllib

    from lineage.errors import ConfigError

    if default_config_file().is_dir():
        raise ConfigError(f"config file {default_config_file()} is a directory",
                          hint="LINEAGE_CONFIG must name a TOML file") from None
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as e:
        raise settings_error(e) from None
    except tomllib.TOMLDecodeError as e:
        # the message names line and column, never the content
        raise ConfigError(f"config file {default_config_file()} is not valid TOML ({e})",
                          hint="fix the file (https://toml.io), or point LINEAGE_CONFIG at another one") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {default_config_file()} is not UTF-8 text",
                          hint="save it as UTF-8, or point LINEAGE_CONFIG at another one") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {default_config_file()}: {e.strerror or type(e).__name__}",
                          hint="LINEAGE_CONFIG must name a readable TOML file") from None


def settings_error(e: ValidationError):
    """A settings ValidationError as one ConfigError naming each setting (and its variable)
    and what it needs, never the value given (it could be a password)."""
    from lineage.errors import ConfigError

    parts = []
    for err in e.errors(include_input=False, include_url=False, include_context=False):
        field = ".".join(str(x) for x in err.get("loc", ())) or "value"
        # pydantic-settings names the alias (LINEAGE_BOLT_PORT), wherever the value came from
        name = field.lower().removeprefix("lineage_")
        env = field if field.isupper() else f"LINEAGE_{field.upper()}"
        parts.append(f"{name} ({env}): {err.get('msg', 'invalid')}")
    return ConfigError("invalid setting " + "; ".join(parts),
                       hint=f"fix that environment variable, or the key in the config file {default_config_file()}")
