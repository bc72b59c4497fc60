# Conv3d in LibTorch 1.13 (Debian python3-torch, the libtorch_cpu pgl links): contiguous NCDHW against
# channels_last_3d, forward and forward + backward, 2 threads, median of 5 after 2 warm-ups (docs/performance.md).
# Usage: /usr/bin/python3 bench/conv_layout.py
import torch, time, sys
torch.set_num_threads(2)
def bench(fn, reps=5, warm=2):
    for _ in range(warm): fn()
    ts=[]
    for _ in range(reps):
        t=time.perf_counter(); fn(); ts.append(time.perf_counter()-t)
    ts.sort(); return ts[len(ts)//2]*1e3
for (cin,cout,n,s) in [(8,8,2,64),(16,16,2,32),(32,32,2,24),(32,32,2,48),(64,64,2,12)]:
    for fmt in ["contig","cl3d"]:
        x=torch.randn(n,cin,s,s,s,requires_grad=True)
        conv=torch.nn.Conv3d(cin,cout,3,padding=1,bias=False)
        if fmt=="cl3d":
            x=x.detach().to(memory_format=torch.channels_last_3d).requires_grad_()
            conv=conv.to(memory_format=torch.channels_last_3d)
        def f():
            y=conv(x); y.sum().backward()
        def fw():
            with torch.no_grad(): conv(x)
        print(cin,cout,n,s,fmt,"fwd %.1f ms"%bench(fw),"fwd+bwd %.1f ms"%bench(f), "out cl?", conv(x).is_contiguous(memory_format=torch.channels_last_3d), flush=True)
