// Boost.Asio and Boost.Beast compiled once (separate compilation), instead of
// in every file that includes them: keeps builds sane on two cores.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
