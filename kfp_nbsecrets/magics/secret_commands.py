"""Subcommands that look at secrets and manage the local store: names and keys only."""

from __future__ import annotations

import argparse

from IPython.core.error import StdinNotImplementedError, UsageError

from kfp_nbsecrets.magics.router import SOURCE_CHOICES, actions, arg, subcommand
from kfp_nbsecrets.tables import Table


class SecretCommands:
    """``list``, ``keys`` and ``store``."""

    # -- secrets ------------------------------------------------------------------------------------

    @subcommand(
        "List secrets: names, types and key names (never values; from Kubernetes key counts: see keys).",
        arg("--namespace", metavar="NS"),
        arg("--source", choices=SOURCE_CHOICES),
        arg("--filter", metavar="TEXT", help="only names containing TEXT"),
        arg("--all", action="store_true", help="include service-account tokens and Helm releases"),
    )
    def cmd_list(self, args: argparse.Namespace, scope: dict) -> Table:
        source = self._source(args.source)
        infos = source.list_secrets(args.namespace, include_system=args.all)
        if args.filter:
            infos = [info for info in infos if args.filter.lower() in info.name.lower()]
        where = source.describe() + (f", namespace {args.namespace}" if args.namespace else "")
        return _secrets_table(f"Secrets in {where}", infos, "no secrets")

    @subcommand(
        "Show the key names of one secret.",
        arg("secret", metavar="SECRET"),
        arg("--namespace", metavar="NS"),
        arg("--source", choices=SOURCE_CHOICES),
    )
    def cmd_keys(self, args: argparse.Namespace, scope: dict) -> Table:
        source = self._source(args.source)
        keys = source.keys(args.secret, args.namespace)
        return Table(f"Keys of secret {args.secret!r} in {source.describe()}", ("key",),
                     [(key,) for key in keys], empty="no keys")

    @subcommand(
        "Manage the local store: add (hidden prompts), import, rm, ls.",
        actions(**{
            "add": ("each value by hidden prompt", (
                arg("name", metavar="NAME"), arg("keys", metavar="KEY", nargs="+"),
                arg("--replace", action="store_true", help="overwrite an existing secret"))),
            "import": ("a Secret manifest, or a .env file as NAME", (
                arg("file", metavar="FILE"),
                arg("--name", help="secret name for a .env file"),
                arg("--replace", action="store_true", help="overwrite existing secrets"))),
            "rm": ("remove a secret", (arg("name", metavar="NAME"),)),
            "ls": ("list the secrets of the store", ()),
        }),
    )
    def cmd_store(self, args: argparse.Namespace, scope: dict) -> Table | None:
        import getpass

        from kfp_nbsecrets.sources.errors import SecretExistsError

        store = self._source("local")
        try:
            if args.action == "add":
                store.add_from_prompt(args.name, args.keys, prompt=getpass.getpass, replace=args.replace)
                print(f"Stored secret {args.name!r} with keys {', '.join(args.keys)} in {store.describe()}")
            elif args.action == "import":
                if args.name or args.file.endswith(".env") or args.file.split("/")[-1].startswith(".env"):
                    if not args.name:
                        raise UsageError(
                            f"{args.file!r} is a .env file; give the secret's name with --name NAME"
                        )
                    infos = [store.import_dotenv(args.file, args.name, replace=args.replace)]
                else:
                    infos = store.import_manifest(args.file, replace=args.replace)
                print(f"Imported {', '.join(repr(i.name) for i in infos)} into {store.describe()}")
            elif args.action == "rm":
                store.remove(args.name)
                print(f"Removed secret {args.name!r} from {store.describe()}")
            else:
                infos = store.list_secrets(include_system=True)
                return _secrets_table(f"Secrets in {store.describe()}", infos,
                                      "the store is empty; add one with %kfp_secret store add NAME KEY")
        except SecretExistsError as error:
            raise UsageError(error.explain("add --replace to overwrite")) from None
        except StdinNotImplementedError:
            raise UsageError("this frontend cannot show a hidden prompt; add the secret from Python with"
                             " LocalStore().add(...) or %kfp_secret store import FILE") from None
        return None

    def _source(self, kind: str | None):
        from kfp_nbsecrets import sources

        return sources.get_source(kind)


def _secrets_table(title: str, infos, empty: str) -> Table:
    return Table(title, ("name", "type", "keys"), [(i.name, i.type, i.keys_text()) for i in infos], empty)
