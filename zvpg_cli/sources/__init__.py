"""Where payloads come from: a file, stdin or ZVMs (zvm/), each read into a
`read.Read`; `payload` reads API payloads losslessly. Sources judge nothing."""
