#include "jail/sabotage.h"

#ifdef CJS_SABOTAGE_SWITCH
#include <cstdlib>
#include <cstring>

namespace cjs::jail {

bool sabotage_requested() {
  const char* value = std::getenv("CJS_TEST_SABOTAGE_CONFINEMENT");
  return value != nullptr && std::strcmp(value, "1") == 0;
}

}  // namespace cjs::jail
#endif
