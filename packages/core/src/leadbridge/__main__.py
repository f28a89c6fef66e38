from leadbridge.cli import main

main()
