#include "os/fd_placement.h"

#include <fcntl.h>
#include <unistd.h>

namespace cjs::os {

bool place_fd(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0) == 0;
  return dup2(fd, target) == target;
}

}  // namespace cjs::os
