from .resnet_gcn import GCNBottleneck, ResNetGCN

__all__ = ['ResNetGCN', 'GCNBottleneck']
