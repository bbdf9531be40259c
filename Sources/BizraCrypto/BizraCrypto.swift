public enum BizraCrypto {}
