// The pickle checks of train/archive_guard.h on hand-written LibTorch pickles: storages that claim more than
// their record holds and tensors that reach past their storage are refused, in a weights file and in the
// optimiser-state archive nested inside a checkpoint.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "pgl/core/error.h"
#include "pgl/train/checkpoint.h"
#include "support/test_support.h"

namespace pgl {
namespace {

std::string binint1(int v) { return std::string("K") + static_cast<char>(v); }

std::string binunicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((s.size() >> (8 * i)) & 0xFF);
  return out + s;
}

// The arguments of _rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad, hooks), the storage a
// persistent id ('storage', type, key, device, elements), as LibTorch pickles them.
std::string rebuild_arguments(int elements, int offset, int size, int stride) {
  return "((" + binunicode("storage") + "ctorch\nFloatStorage\n" + binunicode("0") + binunicode("cpu") +
         binint1(elements) + "tQ" + binint1(offset) + "(" + binint1(size) + "t(" + binint1(stride) + "t\x89" +
         "ccollections\nOrderedDict\n)Rt";
}

// {"w": tensor}, the tensor rebuilt by `call` (REDUCE, or BUILD, which LibTorch runs the same way).
std::string dict_of_one_tensor(int elements, int offset, int size, int stride, char call = 'R') {
  return std::string("\x80\x02}(") + binunicode("w") + "ctorch._utils\n_rebuild_tensor_v2\n" +
         rebuild_arguments(elements, offset, size, stride) + call + "u.";
}

// A LibTorch archive of data.pkl and its one storage record data/0 of `record_bytes` bytes.
std::string archive(const std::string& pickle, size_t record_bytes) {
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
    out.append(static_cast<const char*>(bytes), n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  const std::string record(record_bytes, '\0');
  writer.writeRecord("data/0", record.data(), record.size());
  writer.writeEndOfFile();
  return out;
}

std::string write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CheckpointGuard, HandWrittenPickleIsLibTorchsFormat) {
  test::TempDir dir;
  auto tensors = train::load_state_dict(write(dir / "ok.pt", archive(dict_of_one_tensor(10, 2, 5, 1), 40)));
  ASSERT_TRUE(tensors.contains("w"));
  EXPECT_EQ(tensors["w"].sizes(), torch::IntArrayRef({5}));
  EXPECT_EQ(tensors["w"].storage_offset(), 2);
}

TEST(CheckpointGuard, StorageLongerThanItsRecordIsRefused) {
  test::TempDir dir;
  const std::string path = write(dir / "short.pt", archive(dict_of_one_tensor(10, 0, 10, 1), 20));
  const std::string error = error_of([&] { train::load_state_dict(path); });
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("a storage of 40 bytes whose record holds 20"), std::string::npos) << error;
}

TEST(CheckpointGuard, TensorPastItsStorageIsRefused) {
  test::TempDir dir;
  for (auto [offset, size, stride] : {std::tuple{6, 5, 1}, std::tuple{0, 4, 4}}) {
    const std::string path =
        write(dir / "past.pt", archive(dict_of_one_tensor(10, offset, size, stride), 40));
    const std::string error = error_of([&] { train::load_state_dict(path); });
    EXPECT_NE(error.find("a tensor that reaches past its storage"), std::string::npos) << error;
  }
  // The last element of the storage is inside it.
  const std::string path = write(dir / "fits.pt", archive(dict_of_one_tensor(10, 5, 5, 1), 40));
  EXPECT_EQ(error_of([&] { train::load_state_dict(path); }), "");
}

// Routes LibTorch's Unpickler takes to a tensor besides REDUCE of the global: BUILD, a REDUCE of the global's
// index given as an integer, other rebuild functions.
TEST(CheckpointGuard, OtherRoutesToATensorAreRefused) {
  test::TempDir dir;
  auto error_for = [&](const std::string& pickle) {
    const std::string path = write(dir / "route.pt", archive(pickle, 40));
    return error_of([&] { train::load_state_dict(path); });
  };
  EXPECT_NE(error_for(dict_of_one_tensor(10, 6, 5, 1, 'b')).find("a tensor that reaches past its storage"),
            std::string::npos);
  const std::string by_index = std::string("\x80\x02}(") + binunicode("w") +
                               "ctorch._utils\n_rebuild_tensor_v2\n" + rebuild_arguments(10, 0, 5, 1) + "R" +
                               binunicode("v") + binint1(0) + rebuild_arguments(10, 6, 5, 1) + "Ru.";
  EXPECT_NE(error_for(by_index).find("a call of something other than a global"), std::string::npos);
  std::string quantised = dict_of_one_tensor(10, 0, 5, 1);
  quantised.replace(quantised.find("_rebuild_tensor_v2"), 18, "_rebuild_qtensor");
  EXPECT_NE(error_for(quantised).find("a global pgl never writes: torch._utils._rebuild_qtensor"),
            std::string::npos);
}

// LibTorch reads the optimiser state (an archive inside the checkpoint) with storages sized by the pickle,
// so the same checks must reach it.
TEST(CheckpointGuard, OptimiserArchiveInsideACheckpointIsChecked) {
  test::TempDir dir;
  torch::nn::Linear layer(2, 2);
  torch::optim::Adam adam(layer->parameters(), 0.1);
  for (auto& p : layer->parameters()) p.mutable_grad() = torch::ones_like(p);
  adam.step();  // Adam's state: tensors in the nested TorchScript archive
  train::Checkpoint checkpoint;
  checkpoint.meta = {{"kind", "test"}, {"step", 1}};
  checkpoint.state.insert("weight", layer->weight.detach());
  const std::string path = dir / "checkpoint.pt";
  train::save_checkpoint(path, checkpoint, &adam);
  EXPECT_EQ(error_of([&] { train::load_checkpoint(path, &adam); }), "");

  const std::string saved = test::read_text(path);
  auto root = torch::pickle_load(std::vector<char>(saved.begin(), saved.end())).toGenericDict();
  const std::string nested = archive(dict_of_one_tensor(10, 0, 10, 1), 20);
  auto bytes = torch::empty({static_cast<int64_t>(nested.size())}, torch::kUInt8);
  std::memcpy(bytes.data_ptr(), nested.data(), nested.size());
  root.insert_or_assign("optimizer", bytes);
  const std::vector<char> tampered = torch::pickle_save(root);
  write(path, std::string(tampered.begin(), tampered.end()));
  const std::string error = error_of([&] { train::load_checkpoint(path, &adam); });
  EXPECT_NE(error.find("a storage of 40 bytes whose record holds 20"), std::string::npos) << error;
}

}  // namespace
}  // namespace pgl
