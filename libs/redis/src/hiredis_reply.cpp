#include "internal/hiredis_reply.h"

namespace sb::redis::internal {

Reply Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      return Reply(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS:
      return Reply(Reply::SimpleString{std::string(r->str, r->len)});
    case REDIS_REPLY_ERROR:
      return Reply(Reply::Error{std::string(r->str, r->len)});
    case REDIS_REPLY_INTEGER:
      return Reply(static_cast<int64_t>(r->integer));
    case REDIS_REPLY_ARRAY: {
      Reply::Array items;
      items.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) items.push_back(Convert(r->element[i]));
      return Reply(std::move(items));
    }
    default:
      return Reply(Reply::Nil{});
  }
}

}  // namespace sb::redis::internal
