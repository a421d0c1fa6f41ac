// Attack catalogue items 46-50 (sandbox.md): kernel interfaces through which
// one run could watch another run or the host, or use up a host-wide
// resource. Each observation test has two concurrent runs: one acts, the
// other watches; the watcher's calls must be refused (the seccomp
// allow-list, security.md 3.8), so it sees nothing.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <string>

#include "attack_fixture.h"

using namespace cjs::attack;

namespace {

// Runs `watcher` and `actor` at the same time (the watcher starts first) on
// the item's two slots; returns the watcher's body after checking that the
// actor's run finished with `actor_body`.
std::string watch_while_acting(int item, const std::string& watcher, const std::string& actor,
                               const std::string& actor_body) {
  const cjs::Config config = late_item_config();
  ForkedRun watching = start_forked_run(config, late_slot(item, 0), watcher);
  ForkedRun acting = start_forked_run(config, late_slot(item, 1), actor);
  const std::string acted = finish_forked_run(acting);
  const std::string watched = finish_forked_run(watching);
  INFO("actor: " << acted);
  CHECK(acted == actor_body);
  auto executor = make_executor(config, late_slot(item, 0));
  expect_clean_next_run(executor);
  return watched;
}

// The actor of 46 and 47: imports a module from the shared, read-only
// site-packages again and again for 3 seconds.
const std::string kImportingActor =
    "import importlib, time, six\n"
    "def act():\n"
    "    end = time.monotonic() + 3\n"
    "    while time.monotonic() < end:\n"
    "        importlib.reload(six)\n"
    "    return True\n"
    "imported = act()\n";
const std::string kImportingActorBody = R"({"globals_dict":{"imported":true}})";

// The directory whose files the actor opens (six's __pycache__), found
// without opening anything in it.
const std::string kWatchedDir =
    "import importlib.util, os\n"
    "WATCHED = os.path.dirname(importlib.util.find_spec('six').cached).encode()\n";

// A watcher's wait: whether the notification descriptor `fd` reports an
// event within 6 s (the actor's 3 s of imports fall inside).
const std::string kEventsSeen =
    "import os, select, time\n"
    "def events_seen(fd):\n"
    "    end = time.monotonic() + 6\n"
    "    while time.monotonic() < end:\n"
    "        if select.select([fd], [], [], 0.2)[0]:\n"
    "            return len(os.read(fd, 4096)) > 0\n"
    "    return False\n";

}  // namespace

TEST_CASE("46: inotify cannot watch another run import a module", "[attack][deny]") {
  const std::string watcher =
      kWatchedDir + kEventsSeen +
      "import ctypes, errno\n"
      "def watch():\n"
      "    libc = ctypes.CDLL(None, use_errno=True)\n"
      "    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)\n"
      "    if fd < 0:\n"
      "        return errno.errorcode[ctypes.get_errno()], False\n"
      "    if libc.inotify_add_watch(fd, WATCHED, 0x20 | 0x1) < 0:\n"
      "        return 'watch ' + errno.errorcode[ctypes.get_errno()], False\n"
      "    return 'ok', events_seen(fd)\n"
      "inotify, seen = watch()\n"
      "del WATCHED\n";
  const std::string body = watch_while_acting(46, watcher, kImportingActor, kImportingActorBody);
  CHECK(body == R"({"globals_dict":{"inotify":"EPERM","seen":false}})");
}

TEST_CASE("47: fanotify cannot watch another run import a module", "[attack][deny]") {
  const std::string watcher =
      kWatchedDir + kEventsSeen +
      "import ctypes, errno\n"
      "def watch():\n"
      "    libc = ctypes.CDLL(None, use_errno=True)\n"
      "    libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,\n"
      "                                   ctypes.c_int, ctypes.c_char_p]\n"
      "    # FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK | FAN_CLOEXEC: allowed unprivileged\n"
      "    fd = libc.fanotify_init(0x200 | 0x2 | 0x1, os.O_RDONLY)\n"
      "    if fd < 0:\n"
      "        return errno.errorcode[ctypes.get_errno()], False\n"
      "    # FAN_MARK_ADD on the inode; FAN_OPEN | FAN_EVENT_ON_CHILD\n"
      "    if libc.fanotify_mark(fd, 0x1, 0x20 | 0x08000000, -100, WATCHED) < 0:\n"
      "        return 'mark ' + errno.errorcode[ctypes.get_errno()], False\n"
      "    return 'ok', events_seen(fd)\n"
      "fanotify, seen = watch()\n"
      "del WATCHED\n";
  const std::string body = watch_while_acting(47, watcher, kImportingActor, kImportingActorBody);
  CHECK(body == R"({"globals_dict":{"fanotify":"EPERM","seen":false}})");
}

TEST_CASE("48: listmount and statmount show no host mounts or ids", "[attack][deny]") {
  // listmount (458) and statmount (457), Linux 6.8: every mount of the
  // namespace, with host paths and global mount ids.
  const std::string watcher =
      kPySyscall +
      "import struct\n"
      "ids = (_ct.c_uint64 * 64)()\n"
      "# mnt_id_req: size 24, spare, mnt_id LSMT_ROOT, param\n"
      "req = _ct.create_string_buffer(struct.pack('<IIQQ', 24, 0, 2**64 - 1, 0), 24)\n"
      "listmount = sc(458, req, ids, 64, 0)\n"
      "# STATMOUNT_MNT_POINT of the first mount listed (0 if none)\n"
      "req = _ct.create_string_buffer(struct.pack('<IIQQ', 24, 0, ids[0], 0x10), 24)\n"
      "out = _ct.create_string_buffer(4096)\n"
      "statmount = sc(457, req, out, 4096, 0)\n"
      "del ids, req, out\n";
  const std::string actor = "import time\ntime.sleep(2)\nslept = True\n";
  const std::string body =
      watch_while_acting(48, watcher, actor, R"({"globals_dict":{"slept":true}})");
  CHECK(body == R"({"globals_dict":{"listmount":"EPERM","statmount":"EPERM"}})");
}

TEST_CASE("49: sysinfo shows no host uptime memory load or thread count", "[attack][deny]") {
  // The actor starts threads, which sysinfo's host-wide process count shows.
  const std::string watcher = kPySyscall +
                              "import time\n"
                              "time.sleep(1)\n"
                              "info = _ct.create_string_buffer(128)\n"
                              "sysinfo = sc(99, info)\n"
                              "del info\n";
  const std::string actor =
      "import threading, time\n"
      "ts = [threading.Thread(target=time.sleep, args=(3,)) for _ in range(8)]\n"
      "for t in ts: t.start()\n"
      "for t in ts: t.join()\n"
      "threads = len(ts)\n"
      "del ts, t\n";
  const std::string body =
      watch_while_acting(49, watcher, actor, R"({"globals_dict":{"threads":8}})");
  CHECK(body == R"({"globals_dict":{"sysinfo":"EPERM"}})");
}

TEST_CASE("50: host-wide kernel resources and memory-policy calls are refused", "[attack][deny]") {
  // io_setup takes from the host's fs.aio-max-nr; modify_ldt writes an LDT
  // entry; the rest act beyond the run's own files and memory. (A small
  // io_setup, so that an unconfined control takes almost nothing.)
  auto executor = make_executor(late_item_config(), late_slot(50));
  Outcome out = run(executor, kPySyscall +
                                  "ctx = _ct.c_ulong(0)\n"
                                  "io_setup = sc(206, 4, _ct.byref(ctx))\n"
                                  "io_submit = sc(209, ctx, 0, 0)\n"
                                  "io_getevents = sc(208, ctx, 0, 0, 0, 0)\n"
                                  "io_destroy = sc(207, ctx)\n"
                                  "desc = _ct.create_string_buffer(16)\n"
                                  "_ct.memmove(desc, b'\\x00' * 12 + b'\\x01\\x00\\x00\\x00', 16)\n"
                                  "modify_ldt_write = sc(154, 1, desc, 16)\n"
                                  "modify_ldt_read = sc(154, 0, desc, 16)\n"
                                  "sync = sc(162)\n"
                                  "syncfs = sc(306, 0)\n"
                                  "vmsplice = sc(278, 1, 0, 0, 0)\n"
                                  "move_pages = sc(279, 0, 0, 0, 0, 0, 0)\n"
                                  "mbind = sc(237, 0, 0, 0, 0, 0, 0)\n"
                                  "handle = _ct.create_string_buffer(128)\n"
                                  "mount_id = _ct.c_int(0)\n"
                                  "_ct.memmove(handle, (120).to_bytes(4, 'little'), 4)\n"
                                  "name_to_handle_at = sc(303, -100, b'.', handle, "
                                  "_ct.byref(mount_id), 0)\n"
                                  "open_by_handle_at = sc(304, -100, handle, 0)\n"
                                  "del ctx, desc, handle, mount_id\n");
  CHECK(out.body() ==
        R"({"globals_dict":{"io_setup":"EPERM","io_submit":"EPERM","io_getevents":"EPERM",)"
        R"("io_destroy":"EPERM","modify_ldt_write":"EPERM","modify_ldt_read":"EPERM",)"
        R"("sync":"EPERM","syncfs":"EPERM","vmsplice":"EPERM","move_pages":"EPERM",)"
        R"("mbind":"EPERM","name_to_handle_at":"EPERM","open_by_handle_at":"EPERM"}})");
  expect_clean_next_run(executor);
}
