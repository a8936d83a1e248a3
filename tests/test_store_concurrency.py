"""The local store used by several processes at once (real processes, not threads), and killed mid-write."""

import base64
import multiprocessing
import os
import subprocess
import sys

import pytest
import store_stress

from kfp_nbsecrets.sources.errors import SecretExistsError
from kfp_nbsecrets.sources.store import LocalStore

SPAWN = multiprocessing.get_context("spawn")


def run_processes(target, count, *args, timeout=90):
    """Run ``target(index, barrier, results, *args)`` in ``count`` processes; the list of what they put."""
    barrier, results = SPAWN.Barrier(count), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=target, args=(index, barrier, results, *args)) for index in range(count)
    ]
    for process in processes:
        process.start()
    try:
        collected = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return collected


def add_same_names(index, barrier, results, directory, rounds):
    store, outcomes = LocalStore(directory), []
    for number in range(rounds):
        barrier.wait()
        try:
            store.add(f"n-{number}", {"k": f"from-{index}"})
            outcomes.append("added")
        except SecretExistsError:
            outcomes.append("exists")
        except Exception as error:  # the process boundary: report it to the test
            outcomes.append(f"{type(error).__name__}: {error}")
    results.put(outcomes)


def test_adding_the_same_new_name_at_once_creates_it_once(tmp_path):
    rounds = 25
    outcomes = run_processes(add_same_names, 4, str(tmp_path / "store"), rounds)
    for number in range(rounds):
        assert sorted(worker[number] for worker in outcomes) == ["added", "exists", "exists", "exists"]
    store = LocalStore(tmp_path / "store")
    assert [info.name for info in store.list_secrets()] == sorted(f"n-{number}" for number in range(rounds))
    assert sorted(p.name for p in store.directory.glob("*.yaml")) == sorted(
        f"n-{n}.yaml" for n in range(rounds)
    )


def replace_own_document(index, barrier, results, directory, times):
    store = LocalStore(directory)
    barrier.wait()
    problems = []
    for number in range(times):
        try:
            store.add(f"doc-{index}", {"k": f"v{number}"}, replace=True)
        except Exception as error:  # the process boundary: report it to the test
            problems.append(f"{type(error).__name__}: {error}")
    results.put(problems)


def test_replacing_two_secrets_of_one_file_at_once_loses_neither(tmp_path):
    (tmp_path / "store").mkdir(mode=0o700)
    team = tmp_path / "store" / "team.yaml"
    team.write_text(
        "kind: Secret\nmetadata: {name: doc-0}\nstringData: {k: start}\n---\n"
        "kind: Secret\nmetadata: {name: doc-1}\nstringData: {k: start}\n"
    )
    team.chmod(0o600)
    assert run_processes(replace_own_document, 2, str(tmp_path / "store"), 100) == [[], []]
    store = LocalStore(tmp_path / "store")
    for index in range(2):
        assert store.read_values_for_local_run(f"doc-{index}")["k"] == b"v99"
    assert [p.name for p in store.directory.glob("*.yaml")] == ["team.yaml"]


def churn(index, barrier, results, directory, times):
    store, problems = LocalStore(directory), []
    barrier.wait()
    for number in range(times):
        try:
            if index == 0:
                store.list_secrets()
                store.exists("own-1")
            else:
                store.add(f"own-{index}", {"k": f"v{number}"})
                store.read_values_for_local_run(f"own-{index}")
                store.remove(f"own-{index}")
        except Exception as error:  # the process boundary: report it to the test
            problems.append(f"{type(error).__name__}: {error}")
    results.put(problems)


def test_add_rm_and_list_of_different_names_at_once_never_fail(tmp_path):
    assert run_processes(churn, 3, str(tmp_path / "store"), 150) == [[], [], []]


WRITER = """
import os, sys, time
from kfp_nbsecrets.sources.store import LocalStore

def hang_before_rename(source, target):  # the temp file is written: tell the test, wait for SIGKILL
    print("writing", flush=True)
    time.sleep(60)

os.replace = hang_before_rename
LocalStore(sys.argv[1]).add("db", {"k": sys.argv[2]}, replace=True)
"""


def test_a_writer_killed_mid_write_leaves_nothing_after_the_next_write(tmp_path):
    directory = tmp_path / "store"
    LocalStore(directory).add("db", {"k": "old"})
    for number in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(directory), f"new-{number}"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout.readline().strip() == "writing"
        finally:
            child.kill()
            child.wait(timeout=10)
            child.stdout.close()
        # each killed writer left its temp file holding the new value; the next writer removed it
        (temp,) = directory.glob(".tmp-*")
        assert base64.b64encode(f"new-{number}".encode()) in temp.read_bytes()
    store = LocalStore(directory)
    assert store.read_values_for_local_run("db")["k"] == b"old"
    store.add("other", {"k": "v"})
    assert sorted(os.listdir(directory)) == [".lock", "db.yaml", "other.yaml"]
    assert b"bmV3L" not in b"".join(path.read_bytes() for path in directory.iterdir())  # no base64 of new-N


def test_stale_temp_files_are_wiped_and_removed_without_following_links(tmp_path):
    store = LocalStore(tmp_path / "store")
    store.add("db", {"k": "v"})
    stale = store.directory / ".tmp-killed.yaml"
    stale.write_text("data: {k: c3VwZXItc2VjcmV0}\n")
    stale.chmod(0o600)
    outside = tmp_path / "outside.yaml"
    outside.write_text("keep me")
    (store.directory / ".tmp-link.yaml").symlink_to(outside)
    linked = store.directory / ".tmp-hardlink.yaml"
    os.link(outside, linked)
    opened = open(stale, "rb")  # the wipe happens in place: an open handle sees zeros, not the value
    store.remove("db")
    assert sorted(os.listdir(store.directory)) == [".lock"]
    assert set(opened.read()) == {0}
    opened.close()
    assert outside.read_text() == "keep me"


@pytest.mark.parametrize("workers, operations", [(4, int(os.environ.get("KFP_NBSECRETS_STRESS_OPS", "60")))])
def test_mixed_operations_from_four_processes_lose_and_corrupt_nothing(tmp_path, workers, operations):
    result = store_stress.run(tmp_path / "store", workers=workers, operations=operations, timeout=100)
    assert {kind: found for kind, found in result["problems"].items() if found} == {}
    counts = result["counts"]
    assert sum(counts.values()) == workers * operations
    assert counts.get("add", 0) and counts.get("rm", 0) and counts.get("import", 0)
    assert counts.get("import-broken refused: broken", 0) and counts.get("add refused: exists", 0)
