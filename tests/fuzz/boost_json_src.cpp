// Boost.JSON compiled into the fuzz target itself (header-only mode), instrumented with the
// same sanitizers as the code under test. Used by run_fuzz.sh only.
#include <boost/json/src.hpp>
