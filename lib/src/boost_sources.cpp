// The one translation unit that compiles Asio, Asio's SSL support and Beast, so that the
// rest of the library includes their headers without instantiating them again.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
