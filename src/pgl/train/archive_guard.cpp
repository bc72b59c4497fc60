#include "pgl/train/archive_guard.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

void check_torch_archive(const std::vector<char>& bytes, const std::string& path) {
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
  // What PyTorchStreamReader::init requires once miniz has opened the archive.
  if (entries.empty()) refuse("empty archive");
  const size_t slash = entries[0].name.find('/');
  if (slash == std::string::npos) refuse("its first member is not in a folder");
  const std::string folder = entries[0].name.substr(0, slash + 1);
  std::string version_name = folder + "version";
  for (const auto& e : entries)
    if (e.name == folder + ".data/version") version_name = e.name;
  bool found = false;
  for (const auto& e : entries) {
    if (e.name != version_name) continue;
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
}

void check_pickle(const char* data, size_t size, const std::string& path) {
  auto refuse = [&](size_t at, const char* why) {
    throw Error(path, fmt::format("not a readable checkpoint (corrupt pickle at byte {}: {})", at, why));
  };
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
  auto memo = [&](uint64_t index, size_t op) {
    if (index >= size) refuse(op, "a memo index beyond any the pickle can hold");
  };
  // The depth of the Unpickler's value stack and its marks: it pops without checking (an empty stack: a read
  // at address -8, SEGV, found by fuzz/weights.cpp), and a pop below the last mark makes its next pop-to-mark
  // start past the end of the stack.
  int64_t depth = 0;
  std::vector<int64_t> marks;
  auto pop = [&](int64_t n, size_t op) {
    if (depth - n < (marks.empty() ? 0 : marks.back()))
      refuse(op, "an opcode pops more than the stack holds");
    depth -= n;
  };
  auto peek = [&](size_t op) {
    if (depth < 1) refuse(op, "an opcode reads an empty stack");
  };
  auto to_mark = [&](size_t op) {
    if (marks.empty()) refuse(op, "an opcode needs a mark there is not");
    depth = marks.back();
    marks.pop_back();
  };
  auto stack_effect = [&](unsigned char code, size_t op) {
    switch (code) {
      case '(':
        marks.push_back(depth);
        break;  // MARK
      case '0':
        pop(1, op);
        break;  // POP
      case '1':
        to_mark(op);
        break;  // POP_MARK
      case '2':
        pop(1, op), depth += 2;
        break;  // DUP
      case 'Q':
      case 0x85:
        pop(1, op), ++depth;
        break;  // BINPERSID, TUPLE1
      case 'R':
      case 0x81:
      case 0x93:
      case 0x86:
      case 'b':
        pop(2, op), ++depth;
        break;  // REDUCE, NEWOBJ, ...
      case 0x87:
      case 's':
      case 0x92:
        pop(3, op), ++depth;
        break;  // TUPLE3, SETITEM, NEWOBJ_EX
      case 'a':
        pop(2, op), ++depth;
        break;  // APPEND
      case 'e':
      case 'u':
      case 0x90:
        to_mark(op), peek(op);
        break;  // APPENDS, SETITEMS, ADDITEMS
      case 't':
      case 'l':
      case 'd':
      case 0x91:
        to_mark(op), ++depth;
        break;  // TUPLE, LIST, DICT, FROZENSET
      case 'p':
      case 'q':
      case 'r':
      case 0x94:
        peek(op);
        break;  // PUT..., MEMOIZE
      case 0x80:
      case 0x95:
        break;  // PROTO, FRAME
      default:
        ++depth;  // the opcodes that push
    }
  };
  while (at < size) {
    const size_t op = at;
    const auto code = static_cast<unsigned char>(data[at++]);
    if (code == '.') {  // STOP: the result is the stack's top
      peek(op);
      return;
    }
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
        if (code == 'U' || code == 'C' || code == 0x8a) need(v, op), at += v;
        break;
      }
      case 'M':
        need(2, op), at += 2;
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
        if (code == 'j' || code == 'r')
          memo(v, op);
        else if (code != 'J')
          need(v, op), at += v;
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
        need(v, op), at += v;
        break;
      }
      case 'g':
      case 'p':
        memo(std::strtoull(line(op).c_str(), nullptr, 10), op);
        break;
      case 'F':
      case 'I':
      case 'L':
      case 'P':
      case 'S':
      case 'V':
        line(op);
        break;
      case 'c':
      case 'i':
        line(op), line(op);
        break;
      default:
        // Opcodes without argument; anything else the Unpickler refuses by itself.
        if (code == 0 || (!std::strchr("(0123NQRabd}el]ost)u", code) && !(code >= 0x81 && code <= 0x94)))
          return;
    }
    if (code == 'i' || code == 'o' || (code >= 0x82 && code <= 0x84))
      return;  // INST, OBJ, EXT*: refused by it
    stack_effect(code, op);
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
