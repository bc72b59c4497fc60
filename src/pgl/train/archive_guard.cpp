#include "pgl/train/archive_guard.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "pgl/core/error.h"

namespace pgl::train {
namespace {

uint32_t le(const char* p, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t le64(const char* p) { return le(p, 4) | static_cast<uint64_t>(le(p + 4, 4)) << 32; }

struct Entry {
  std::string name;
  uint32_t method = 0, crc = 0, compressed = 0, size = 0, local_header = 0;
};

}  // namespace

ArchiveMembers check_torch_archive(const std::vector<char>& bytes, const std::string& path) {
  auto refuse = [&](const std::string& why) { throw Error(path, "not a readable checkpoint (" + why + ")"); };
  const size_t n = bytes.size();
  const char* b = bytes.data();
  // The end-of-directory record: the last signature within its comment's reach, as miniz looks for it; the
  // zip64 record when its locator precedes it (LibTorch writes both; miniz then uses the zip64 counts). Any
  // directory this cannot follow is refused: when miniz could open it, LibTorch might throw afterwards.
  size_t eocd = std::string::npos;
  for (size_t at = n >= 22 ? n - 22 + 1 : 0; at-- > 0 && n - at <= 22 + 65535;)
    if (std::memcmp(b + at, "PK\5\6", 4) == 0) {
      eocd = at;
      break;
    }
  if (eocd == std::string::npos) refuse("no zip directory");
  uint64_t count = le(b + eocd + 10, 2), directory_size = le(b + eocd + 12, 4),
           directory = le(b + eocd + 16, 4);
  if (eocd >= 20 && std::memcmp(b + eocd - 20, "PK\6\7", 4) == 0) {
    const uint64_t zip64 = le64(b + eocd - 20 + 8);
    if (n < 56 || zip64 > n - 56 || std::memcmp(b + zip64, "PK\6\6", 4) != 0)
      refuse("damaged zip64 directory");
    count = le64(b + zip64 + 32);
    directory_size = le64(b + zip64 + 40);
    directory = le64(b + zip64 + 48);
  }
  if (directory > n || directory_size > n - directory) refuse("damaged zip directory");
  std::vector<Entry> entries;
  for (uint64_t at = directory, i = 0; i < count; ++i) {
    if (at + 46 > n || std::memcmp(b + at, "PK\1\2", 4) != 0) refuse("damaged zip directory");
    Entry e;
    e.method = le(b + at + 10, 2);
    e.crc = le(b + at + 16, 4);
    e.compressed = le(b + at + 20, 4);
    e.size = le(b + at + 24, 4);
    const uint32_t name = le(b + at + 28, 2), extra = le(b + at + 30, 2), comment = le(b + at + 32, 2);
    e.local_header = le(b + at + 42, 4);
    if (at + 46 + name > n) refuse("damaged zip directory");
    e.name.assign(b + at + 46, name);
    entries.push_back(std::move(e));
    at += 46 + name + extra + comment;
  }
  // LibTorch allocates a member's uncompressed size before reading it (4 GB for a nested archive's member
  // claiming 0xFFFFFFFF bytes, found by fuzz/checkpoint.cpp). Its archives store data uncompressed and
  // deflate only TorchScript source (a few KB): a member must lie inside the file, a stored one be as long as
  // its data, and a deflated one inflate to at most 1032 times its data (deflate's limit) and 64 MiB. miniz
  // takes a 0xFFFFFFFF size or offset from the member's zip64 field and finds members by name without case:
  // the directory read here must be the one it reads.
  auto fold = [](std::string name) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  };
  std::map<std::string, int> names;
  for (const auto& e : entries) {
    if (e.size == 0xFFFFFFFF || e.compressed == 0xFFFFFFFF || e.local_header == 0xFFFFFFFF)
      refuse("zip member " + e.name + " over 4 GiB");
    if (++names[fold(e.name)] > 1) refuse("zip member " + e.name + " given twice");
  }
  for (const auto& e : entries) {
    const uint64_t local = e.local_header;
    if (local > n || n - local < 30 || std::memcmp(b + local, "PK\3\4", 4) != 0)
      refuse("damaged zip member " + e.name);
    const uint64_t data = local + 30 + le(b + local + 26, 2) + le(b + local + 28, 2);
    if (data > n || e.compressed > n - data)
      refuse("zip member " + e.name + " runs past the end of the file");
    const bool stored = e.method == 0 && e.size == e.compressed;
    const bool deflated = e.method == 8 && e.size <= uint64_t{1032} * e.compressed && e.size <= (64u << 20);
    if (!stored && !deflated) refuse("zip member " + e.name + " is not stored as LibTorch stores it");
  }
  // What PyTorchStreamReader::init requires once miniz has opened the archive.
  if (entries.empty()) refuse("empty archive");
  const size_t slash = entries[0].name.find('/');
  if (slash == std::string::npos) refuse("its first member is not in a folder");
  const std::string folder = entries[0].name.substr(0, slash + 1);
  // The version record as LibTorch finds it: .data/version if there is one, else version, by miniz's lookup
  // without case (".data/veRsion" made the reader throw after opening the archive: finding 13's leak, found
  // by fuzz/weights.cpp).
  std::string version_name = fold(folder + "version");
  for (const auto& e : entries)
    if (fold(e.name) == fold(folder + ".data/version")) version_name = fold(e.name);
  bool found = false;
  for (const auto& e : entries) {
    if (fold(e.name) != version_name) continue;
    found = true;
    // Stored, inside the file, with the checksum the directory records (miniz verifies it when reading).
    if (e.method != 0 || e.compressed != e.size || e.size > 32) refuse("unexpected version record");
    const size_t local = e.local_header;
    if (local + 30 > n || std::memcmp(b + local, "PK\3\4", 4) != 0) refuse("damaged version record");
    const size_t data = local + 30 + le(b + local + 26, 2) + le(b + local + 28, 2);
    if (data + e.size > n) refuse("damaged version record");
    const auto* bytes_start = reinterpret_cast<const Bytef*>(b + data);
    if (crc32(0L, bytes_start, e.size) != e.crc) refuse("damaged version record");
    // std::stoull, as LibTorch parses it: optional blanks, then digits; 1..10 are the versions it reads.
    std::string text(b + data, e.size);
    size_t digits = text.find_first_not_of(" \t\n\v\f\r");
    if (digits == std::string::npos || !std::isdigit(static_cast<unsigned char>(text[digits])))
      refuse("its version is not a number");
    uint64_t version = 0;
    for (size_t i = digits;
         i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && version < 100; ++i)
      version = version * 10 + static_cast<uint64_t>(text[i] - '0');
    if (version < 1 || version > 10)
      refuse(fmt::format("archive version {} is not one LibTorch 1.13 reads", text));
  }
  if (!found) refuse("no version record");
  ArchiveMembers members;
  for (const auto& e : entries)
    if (e.name.rfind(folder, 0) == 0) members[e.name.substr(folder.size())] = e.size;
  return members;
}

namespace {

// What check_pickle follows of the Unpickler's values: integers, strings, globals ("module.name"), short
// tuples of them, and storages (their element count). Everything else is opaque. Shared parts: a memo entry
// can be fetched many times.
struct Value {
  enum class Kind : uint8_t { Other, Int, Text, Global, Tuple, Storage } kind = Kind::Other;
  uint8_t depth = 0;                                // tuples nested inside
  int64_t number = 0;                               // Int; Storage: elements
  std::shared_ptr<const std::string> text;          // Text, Global
  std::shared_ptr<const std::vector<Value>> items;  // Tuple
};

constexpr size_t kMaxTracked = 16;  // longer tuples and strings are opaque: enough for storages and tensors
constexpr uint8_t kMaxDepth = 64;   // tuples nested deeper are refused (LibTorch recurses on them too)
constexpr size_t kMaxPickle =
    8u << 20;  // pgl's pickles are under 1 MB; the simulation costs ~48 bytes/opcode

// The globals a pgl checkpoint, weights file or optimiser archive holds: tensors, storages, the dict type,
// TorchScript's typed containers and classes. Anything else is refused: LibTorch's other globals (quantised
// or sparse tensors, for one) build tensors this check does not follow.
// (torch.jit._pickle.build_tensor_from_id reads a tensor table that is empty when reading an archive.)
bool known_global(const std::string& name) {
  auto starts = [&](const char* prefix) { return name.rfind(prefix, 0) == 0; };
  return name == "torch._utils._rebuild_tensor_v2" || name == "collections.OrderedDict" ||
         starts("torch.jit._pickle.") || starts("__torch__.") ||
         (starts("torch.") && name.find('.', 6) == std::string::npos && name.size() > 13 &&
          name.compare(name.size() - 7, 7, "Storage") == 0);
}

// Bytes per element of the storage types LibTorch 1.13 writes; 0 for any other.
int64_t element_bytes(const std::string& type) {
  static const std::map<std::string, int64_t> kBytes = {
      {"torch.FloatStorage", 4},    {"torch.DoubleStorage", 8},       {"torch.HalfStorage", 2},
      {"torch.BFloat16Storage", 2}, {"torch.LongStorage", 8},         {"torch.IntStorage", 4},
      {"torch.ShortStorage", 2},    {"torch.CharStorage", 1},         {"torch.ByteStorage", 1},
      {"torch.BoolStorage", 1},     {"torch.ComplexFloatStorage", 8}, {"torch.ComplexDoubleStorage", 16}};
  auto it = kBytes.find(type);
  return it == kBytes.end() ? 0 : it->second;
}

}  // namespace

void check_pickle(const char* data, size_t size, const std::string& path, const ArchiveMembers& members,
                  const std::string& storage_folder) {
  auto refuse = [&](size_t at, const std::string& why) {
    throw Error(path, fmt::format("not a readable checkpoint (corrupt pickle at byte {}: {})", at, why));
  };
  if (size > kMaxPickle) refuse(0, fmt::format("a pickle of {} bytes, more than pgl ever writes", size));
  size_t at = 0;
  auto need = [&](size_t bytes, size_t op) {
    if (bytes > size - at) refuse(op, "an argument runs past the end");
  };
  auto number = [&](int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(data[at + i])) << (8 * i);
    at += static_cast<size_t>(bytes);
    return v;
  };
  auto line = [&](size_t op) {
    const void* end = std::memchr(data + at, '\n', size - at);
    if (!end) refuse(op, "a text argument has no end");
    std::string text(data + at, static_cast<const char*>(end));
    at = static_cast<size_t>(static_cast<const char*>(end) - data) + 1;
    return text;
  };
  // Memo indices: the pickler numbers memo entries from 0, each takes at least two bytes of the pickle.
  std::map<uint64_t, Value> memo;
  auto memo_index = [&](uint64_t index, size_t op) {
    if (index >= size) refuse(op, "a memo index beyond any the pickle can hold");
    return index;
  };
  // The Unpickler's value stack and its marks: it pops without checking (an empty stack: a read at address
  // -8, SEGV, found by fuzz/weights.cpp), and a pop below the last mark makes its next pop-to-mark start past
  // the end of the stack.
  std::vector<Value> stack;
  std::vector<size_t> marks;
  auto pop = [&](size_t n, size_t op) {
    if (stack.size() < n || stack.size() - n < (marks.empty() ? 0 : marks.back()))
      refuse(op, "an opcode pops more than the stack holds");
    std::vector<Value> popped(stack.end() - static_cast<std::ptrdiff_t>(n), stack.end());
    stack.resize(stack.size() - n);
    return popped;
  };
  auto peek = [&](size_t op) -> Value& {
    if (stack.empty()) refuse(op, "an opcode reads an empty stack");
    return stack.back();
  };
  auto to_mark = [&](size_t op) {
    if (marks.empty()) refuse(op, "an opcode needs a mark there is not");
    std::vector<Value> popped(stack.begin() + static_cast<std::ptrdiff_t>(marks.back()), stack.end());
    stack.resize(marks.back());
    marks.pop_back();
    return popped;
  };
  auto tuple = [&](std::vector<Value> items, size_t op) {
    Value v;
    if (items.size() > kMaxTracked) return v;
    for (const auto& item : items) v.depth = std::max<uint8_t>(v.depth, item.depth);
    if (++v.depth > kMaxDepth) refuse(op, fmt::format("tuples nested more than {} deep", kMaxDepth));
    v.kind = Value::Kind::Tuple;
    v.items = std::make_shared<const std::vector<Value>>(std::move(items));
    return v;
  };
  auto integer = [](int64_t n) {
    Value v;
    v.kind = Value::Kind::Int;
    v.number = n;
    return v;
  };
  auto text = [](std::string s, Value::Kind kind = Value::Kind::Text) {
    Value v;
    if (s.size() > kMaxTracked * 16) return v;
    v.kind = kind;
    v.text = std::make_shared<const std::string>(std::move(s));
    return v;
  };
  auto is = [](const Value& v, Value::Kind kind) { return v.kind == kind; };
  // BINPERSID ('storage', type, key, device, elements): LibTorch 1.13 sizes the storage by the elements the
  // pickle declares, not by its record, so a record shorter than that was read past its end (ASan
  // heap-buffer-overflow, found by fuzz/checkpoint.cpp).
  auto storage = [&](const Value& id, size_t op) {
    const auto* f = id.items.get();
    if (!is(id, Value::Kind::Tuple) || f->size() != 5 || !is((*f)[0], Value::Kind::Text) ||
        *(*f)[0].text != "storage" || !is((*f)[1], Value::Kind::Global) || !is((*f)[2], Value::Kind::Text) ||
        !is((*f)[4], Value::Kind::Int))
      refuse(op, "a persistent id that is not a storage");
    const int64_t bytes_each = element_bytes(*(*f)[1].text);
    if (bytes_each == 0) refuse(op, "a storage of unknown type '" + *(*f)[1].text + "'");
    const int64_t elements = (*f)[4].number;
    int64_t bytes = 0;
    if (elements < 0 || __builtin_mul_overflow(elements, bytes_each, &bytes))
      refuse(op, fmt::format("a storage of {} elements", elements));
    if (elements > 0) {  // LibTorch reads no record for an empty storage
      auto record = members.find(storage_folder + *(*f)[2].text);
      if (record == members.end()) refuse(op, "a storage without its record '" + *(*f)[2].text + "'");
      if (static_cast<uint64_t>(bytes) > record->second)
        refuse(op, fmt::format("a storage of {} bytes whose record holds {}", bytes, record->second));
    }
    Value v;
    v.kind = Value::Kind::Storage;
    v.number = elements;
    return v;
  };
  // REDUCE and BUILD call a global (LibTorch keeps the function's index on the stack, so anything else there
  // could be an index too: refused). The tensor rebuild function: plain tensors lying inside their storage
  // (LibTorch 1.13 takes sizes, strides and offset from the pickle without checking them against it).
  auto call = [&](const Value& function, const Value& arguments, size_t op) {
    if (!is(function, Value::Kind::Global)) refuse(op, "a call of something other than a global");
    if (*function.text != "torch._utils._rebuild_tensor_v2") return;
    const auto* a = arguments.items.get();
    auto ints = [&](const Value& v) {
      bool ok = is(v, Value::Kind::Tuple);
      for (size_t k = 0; ok && k < v.items->size(); ++k) ok = is((*v.items)[k], Value::Kind::Int);
      return ok;
    };
    if (!is(arguments, Value::Kind::Tuple) || a->size() < 4 || !is((*a)[0], Value::Kind::Storage) ||
        !is((*a)[1], Value::Kind::Int) || !ints((*a)[2]) || !ints((*a)[3]) ||
        (*a)[2].items->size() != (*a)[3].items->size())
      refuse(op, "a tensor whose storage, offset, sizes or strides are not what LibTorch writes");
    const auto& sizes = *(*a)[2].items;
    const auto& strides = *(*a)[3].items;
    int64_t last = (*a)[1].number, step = 0;
    bool ok = last >= 0, empty = false;
    for (size_t d = 0; ok && d < sizes.size(); ++d) {
      ok = sizes[d].number >= 0 && strides[d].number >= 0;
      empty = empty || sizes[d].number == 0;
      if (ok && sizes[d].number > 0)
        ok = !__builtin_mul_overflow(sizes[d].number - 1, strides[d].number, &step) &&
             !__builtin_add_overflow(last, step, &last);
    }
    if (!ok || (!empty && last >= (*a)[0].number)) refuse(op, "a tensor that reaches past its storage");
  };
  auto stack_effect = [&](unsigned char code, size_t op, Value pushed) {
    switch (code) {
      case '(':
        marks.push_back(stack.size());
        return;  // MARK
      case '0':
        pop(1, op);
        return;  // POP
      case '1':
        to_mark(op);
        return;  // POP_MARK
      case '2': {
        Value top = peek(op);
        stack.push_back(std::move(top));
        return;  // DUP
      }
      case 'Q':
        stack.push_back(storage(pop(1, op)[0], op));
        return;  // BINPERSID
      case 0x85:
      case 0x86:
      case 0x87:
        stack.push_back(tuple(pop(code - 0x84u, op), op));
        return;  // TUPLE1..3
      case 't':
        stack.push_back(tuple(to_mark(op), op));
        return;  // TUPLE
      case 'R':
      case 'b': {
        auto f = pop(2, op);
        call(f[0], f[1], op);
        stack.emplace_back();
        return;  // REDUCE, BUILD
      }
      case 0x81:
        pop(1, op);
        return;  // NEWOBJ: LibTorch pops the arguments and leaves the class on the stack
      case 'a':
      case 0x93:
        pop(2, op), stack.emplace_back();
        return;  // APPEND, STACK_GLOBAL
      case 's':
      case 0x92:
        pop(3, op), stack.emplace_back();
        return;  // SETITEM, NEWOBJ_EX
      case 'e':
      case 'u':
      case 0x90:
        to_mark(op), peek(op);
        return;  // APPENDS, SETITEMS, ADDITEMS
      case 'l':
      case 'd':
      case 0x91:
        to_mark(op), stack.emplace_back();
        return;  // LIST, DICT, FROZENSET
      case 0x80:
      case 0x95:
        return;  // PROTO, FRAME
      default:
        stack.push_back(std::move(pushed));  // the opcodes that push
    }
  };
  while (at < size) {
    const size_t op = at;
    const auto code = static_cast<unsigned char>(data[at++]);
    if (code == '.') {  // STOP: the result is the stack's top
      peek(op);
      return;
    }
    Value pushed;  // what an opcode that pushes pushes
    switch (code) {
      case 'K':
      case 'U':
      case 'C':
      case 0x80:
      case 0x8a:
      case 'h':
      case 'q': {  // one-byte argument
        need(1, op);
        const uint64_t v = number(1);
        if (code == 'K') pushed = integer(static_cast<int64_t>(v));
        if (code == 0x8a && v >= 1 && v <= 8) {  // LONG1: v bytes, little-endian, two's complement
          need(v, op);
          uint64_t n = number(static_cast<int>(v));
          if (v < 8 && (n >> (8 * v - 1)) & 1) n |= ~uint64_t{0} << (8 * v);
          pushed = integer(static_cast<int64_t>(n));
        } else if (code == 'U' || code == 'C' || code == 0x8a) {
          need(v, op), at += v;
        }
        if (code == 'h') pushed = memo[memo_index(v, op)];
        if (code == 'q') memo[memo_index(v, op)] = peek(op);
        break;
      }
      case 'M':
        need(2, op);
        pushed = integer(static_cast<int64_t>(number(2)));
        break;
      case 'J':
      case 'T':
      case 'X':
      case 'B':
      case 0x8b:
      case 'j':
      case 'r': {  // four-byte argument
        need(4, op);
        const uint64_t v = number(4);
        if (code == 'j') pushed = memo[memo_index(v, op)];
        if (code == 'r') memo[memo_index(v, op)] = peek(op);
        if (code == 'J') pushed = integer(static_cast<int32_t>(static_cast<uint32_t>(v)));
        if (code == 'X' && v <= size - at)
          pushed = text(std::string(data + at, std::min<uint64_t>(v, kMaxTracked * 16 + 1)));
        if (code != 'j' && code != 'r' && code != 'J') need(v, op), at += v;
        break;
      }
      case 'G':
      case 0x95:
        need(8, op), at += 8;
        break;
      case 0x8d:
      case 0x8e: {  // eight-byte length
        need(8, op);
        const uint64_t v = number(8);
        need(v, op);
        if (code == 0x8d) pushed = text(std::string(data + at, std::min<uint64_t>(v, kMaxTracked * 16 + 1)));
        at += v;
        break;
      }
      case 'g':
        pushed = memo[memo_index(std::strtoull(line(op).c_str(), nullptr, 10), op)];
        break;
      case 'p':
        memo[memo_index(std::strtoull(line(op).c_str(), nullptr, 10), op)] = peek(op);
        break;
      case 0x94:
        memo[memo.size()] = peek(op);  // MEMOIZE
        break;
      case 'I':
      case 'L': {
        const std::string digits = line(op);
        char* end = nullptr;
        errno = 0;
        const long long n = std::strtoll(digits.c_str(), &end, 10);
        if (errno == 0 && !digits.empty() && (*end == '\0' || *end == 'L')) pushed = integer(n);
        break;
      }
      case 'F':
      case 'P':
      case 'S':
      case 'V':
        line(op);
        break;
      case 'c':
      case 'i': {
        std::string module = line(op);
        const std::string name = module + "." + line(op);
        if (!known_global(name)) refuse(op, "a global pgl never writes: " + name);
        pushed = text(name, Value::Kind::Global);
        break;
      }
      case ')':
        pushed = tuple({}, op);
        break;
      default:
        // Opcodes without argument; anything else the Unpickler refuses by itself.
        if (code == 0 || (!std::strchr("(0123NQRabd}el]ost)u", code) && !(code >= 0x81 && code <= 0x94)))
          return;
    }
    if (code == 'i' || code == 'o' || (code >= 0x82 && code <= 0x84))
      return;  // INST, OBJ, EXT*: refused by it
    if (code == 'h' || code == 'j' || code == 'g' || code == 'q' || code == 'r' || code == 'p' ||
        code == 0x94) {
      if (code == 'h' || code == 'j' || code == 'g') stack.push_back(std::move(pushed));
      continue;  // the memo opcodes
    }
    stack_effect(code, op, std::move(pushed));
  }
}

void check_source(const char* data, size_t size, const std::string& path) {
  auto refuse = [&](const std::string& line) {
    throw Error(path,
                "not a readable checkpoint (unexpected TorchScript source: '" + line.substr(0, 60) + "')");
  };
  auto identifier = [](const std::string& s) {
    return !s.empty() && !std::isdigit(static_cast<unsigned char>(s[0])) &&
           s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
               std::string::npos;
  };
  int depth = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '(' || data[i] == '[' || data[i] == '{') ++depth;
    if (data[i] == ')' || data[i] == ']' || data[i] == '}') --depth;
    if (depth > 64) refuse("nested too deeply");
  }
  // Only the lines LibTorch generates for a torch::serialize archive's modules.
  std::istringstream in(std::string(data, size));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line == "class Module(Module):" || line == "  __annotations__ = []") continue;
    if ((line.rfind("  __parameters__ = [", 0) == 0 || line.rfind("  __buffers__ = [", 0) == 0) &&
        line.back() == ']')
      continue;
    if (line.rfind("  __annotations__[\"", 0) == 0 && line.find("\"] = ") != std::string::npos) continue;
    const size_t colon = line.find(" : ");
    if (line.rfind("  ", 0) == 0 && colon != std::string::npos && identifier(line.substr(2, colon - 2)))
      continue;
    refuse(line);
  }
}

}  // namespace pgl::train
