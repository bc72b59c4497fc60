#pragma once
// Input encoding of the checkpoint and weights targets. A pgl checkpoint is a zip archive
// (torch::pickle_save) whose members carry CRC-32 checksums, so mutated bytes rarely get past the archive
// reader. Hence two forms:
// - bytes that start like a zip archive ("PK\3\4") are written as they are (the archive layer is fuzzed);
// - anything else is a list of members: the pickle (data.pkl), then "\0PGLREC:" NAME "\0" BYTES for each
//   further member (data/0, data/1, ...: the tensors' storage), packed into a zip with correct checksums
//   (the unpickler and pgl's checks behind it are fuzzed). make_seeds writes seeds in both forms.
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace pgl::fuzz {

inline const std::string kMemberSeparator("\0PGLREC:", 8);

// The file bytes for `data`, or "" when the members cannot be packed (e.g. a name given twice).
inline std::string torch_file_bytes(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  if (input.compare(0, 4, "PK\3\4") == 0) return input;
  std::string out;
  try {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
      out.append(static_cast<const char*>(bytes), n);
      return n;
    });
    size_t end = input.find(kMemberSeparator);
    writer.writeRecord("data.pkl", input.data(), std::min(end, input.size()));
    while (end != std::string::npos) {
      size_t name_start = end + kMemberSeparator.size();
      size_t name_end = input.find('\0', name_start);
      if (name_end == std::string::npos) return "";
      end = input.find(kMemberSeparator, name_end + 1);
      std::string name = input.substr(name_start, name_end - name_start);
      std::string bytes =
          input.substr(name_end + 1, end == std::string::npos ? std::string::npos : end - name_end - 1);
      if (name.empty() || name == "version") return "";
      writer.writeRecord(name, bytes.data(), bytes.size());
    }
    writer.writeEndOfFile();
  } catch (const c10::Error&) {
    return "";
  }
  return out;
}

// Reads every element of every tensor, as copying weights into a network does: a tensor that reaches past its
// storage is then an ASan report.
inline void read_all(const torch::OrderedDict<std::string, torch::Tensor>& tensors) {
  for (const auto& item : tensors)
    if (item.value().defined()) (void)item.value().clone();
}

}  // namespace pgl::fuzz
