// os/cgroup_leaf.h: reading our cgroup v2 path from /proc/self/cgroup.
#include <catch2/catch.hpp>

#include "os/cgroup_leaf.h"

using cjs::os::cgroup_v2_path;

TEST_CASE("the v2 path is the 0:: line of /proc/self/cgroup") {
  CHECK(cgroup_v2_path("0::/system.slice/codejail-service.service\n") ==
        "/system.slice/codejail-service.service");
  CHECK(cgroup_v2_path("0::/\n") == "/");
  // A hybrid host lists v1 hierarchies too; only the 0:: line counts.
  CHECK(cgroup_v2_path("12:pids:/system.slice/x.service\n"
                       "1:name=systemd:/system.slice/x.service\n"
                       "0::/system.slice/x.service/service\n") ==
        "/system.slice/x.service/service");
  CHECK(cgroup_v2_path("0::/a/b") == "/a/b");  // no trailing newline
}

TEST_CASE("no v2 path when there is no 0:: line") {
  CHECK_FALSE(cgroup_v2_path(""));
  CHECK_FALSE(cgroup_v2_path("4:memory:/x\n3:pids:/x\n"));
  CHECK_FALSE(cgroup_v2_path("10::/not-hierarchy-zero\n"));
  CHECK_FALSE(cgroup_v2_path("0::relative\n"));
}

TEST_CASE("the leaf name is the one the jail recognizes") {
  CHECK(std::string(cjs::os::kCgroupServiceLeaf) == "service");
}
